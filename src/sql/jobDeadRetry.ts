import { deadPick, deadPickValues, type DeadPickParams } from "./deadPick.js";
import { query } from "./query.js";

/**
 * Dead-letter retry by filter: puts at most `limit` dead jobs matching the
 * filter back to `queued`, runnable now, oldest id first, walking
 * `jobs_dead_idx` from `after` (the last id the previous batch took). As
 * `jobRetry`: attempts are kept and `max_attempts` grows so each job gets one
 * more try. One NOTIFY per queue that got jobs back. Rows locked by someone
 * else (a concurrent retry or purge) are skipped.
 *
 * Returns one row: how many jobs went back, and the greatest id taken (null
 * when none), the next call's `after`.
 */
export const jobDeadRetry = query<DeadPickParams & { channel: string }, { count: number; last: string | null }>(
  "jobDeadRetry",
  (s) => `WITH ${deadPick(s, "$8")}, upd AS (
  UPDATE ${s}.jobs AS j
  SET status = 'queued', run_at = now(), finished_at = NULL, cancel_requested_at = NULL, updated_at = now(),
      max_attempts = GREATEST(j.max_attempts, j.attempts + 1)
  FROM picked
  WHERE j.id = picked.id
  RETURNING j.id, j.queue
), wake AS (
  SELECT pg_notify($7, q.queue) FROM (SELECT DISTINCT queue FROM upd) q
)
SELECT count(*)::int AS count, (SELECT id FROM upd ORDER BY id DESC LIMIT 1) AS last
FROM upd WHERE (SELECT count(*) FROM wake) >= 0`,
  (p) => [...deadPickValues(p), p.channel, p.limit],
);
