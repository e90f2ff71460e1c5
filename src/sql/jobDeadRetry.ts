import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { deadPick } from "./deadPick.js";

/**
 * Dead-letter retry by filter: puts at most $7 dead jobs matching the filter
 * back to `queued`, runnable now, oldest id first, walking `jobs_dead_idx`
 * from $1 (the last id the previous batch took). As `jobRetry`: attempts are
 * kept and `max_attempts` grows so each job gets one more try. One NOTIFY per
 * queue that got jobs back. Rows locked by someone else (a concurrent retry or
 * purge) are skipped.
 *
 * Returns one row: how many jobs went back, and the greatest id taken (null
 * when none), the next call's $1.
 *
 * $1 id to continue after, $2 queue or null, $3 type or null,
 * $4 finished at or after (null: any), $5 finished before (null: any),
 * $6 channel, $7 limit
 */
export const jobDeadRetry = (schema: string): Statement =>
  statement(
    schema,
    "jobDeadRetry",
    `WITH ${deadPick(schema, "$7")}, upd AS (
  UPDATE ${quoteIdent(schema)}.jobs AS j
  SET status = 'queued', run_at = now(), finished_at = NULL, updated_at = now(),
      max_attempts = GREATEST(j.max_attempts, j.attempts + 1)
  FROM picked
  WHERE j.id = picked.id
  RETURNING j.id, j.queue
), wake AS (
  SELECT pg_notify($6, q.queue) FROM (SELECT DISTINCT queue FROM upd) q
)
SELECT count(*)::int AS count, (SELECT id FROM upd ORDER BY id DESC LIMIT 1) AS last
FROM upd WHERE (SELECT count(*) FROM wake) >= 0`,
  );
