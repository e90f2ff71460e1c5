import { CLAIMABLE } from "../states.js";
import { sqlList } from "./ident.js";
import { query } from "./query.js";

/**
 * Moves the `run_at` of every job waiting to run (the `CLAIMABLE` states)
 * `ms` milliseconds earlier, as if that much time had passed for them: the
 * `djps/testing` clock's `advance(ms)`. Every waiting job moves, due or not,
 * so their claim order (priority, run_at, id) stays what it was. Running and
 * finished jobs, leases and timestamps other than `run_at` are left alone.
 * Wakes the workers of each queue that had a job moved, as an enqueue does.
 * Returns how many jobs moved.
 *
 * It walks every waiting job of the schema: for tests, not for production tables.
 */
export const jobRunAtShift = query<{ ms: number; channel: string }, { shifted: number }>(
  "jobRunAtShift",
  (s) => `WITH upd AS (
  UPDATE ${s}.jobs
  SET run_at = run_at - $1::float8 * interval '1 millisecond'
  WHERE status IN (${sqlList(CLAIMABLE)})
  RETURNING queue
), wake AS (
  SELECT pg_notify($2, queue) FROM (SELECT DISTINCT queue FROM upd) q
)
SELECT (SELECT count(*) FROM upd)::int AS shifted WHERE (SELECT count(*) FROM wake) >= 0`,
  (p) => [p.ms, p.channel],
);
