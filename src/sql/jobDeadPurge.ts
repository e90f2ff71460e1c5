import { deadPick, deadPickValues, type DeadPickParams } from "./deadPick.js";
import { query } from "./query.js";

/**
 * Dead-letter purge by filter: deletes at most `limit` dead jobs matching the
 * filter, oldest id first, walking `jobs_dead_idx` from `after` (the last id
 * the previous batch deleted). Rows locked by someone else are skipped.
 *
 * Returns one row: how many were deleted, and the greatest id deleted (null
 * when none), the next call's `after`.
 */
export const jobDeadPurge = query<DeadPickParams, { count: number; last: string | null }>(
  "jobDeadPurge",
  (s) => `WITH ${deadPick(s, "$7")}, gone AS (
  DELETE FROM ${s}.jobs AS j
  USING picked
  WHERE j.id = picked.id
  RETURNING j.id
)
SELECT count(*)::int AS count, (SELECT id FROM gone ORDER BY id DESC LIMIT 1) AS last FROM gone`,
  (p) => [...deadPickValues(p), p.limit],
);
