import { query } from "./query.js";

/** Dead jobs that share a queue, type and last error. */
export interface DeadGroupRow {
  queue: string;
  type: string;
  /** The last error message they died with (null when none was recorded). */
  last_error: string | null;
  count: number;
  /** When the latest of them died. */
  latest: Date | null;
  /** The newest job's id, to open one of them. */
  example: string;
}

/**
 * The dead jobs grouped by queue, type and last error, largest group first,
 * at most `limit` groups. Reads only dead rows, through the partial
 * `jobs_dead_idx`, so its cost follows the dead-letter state, not the history.
 */
export const jobDeadGroups = query<{ limit: number }, DeadGroupRow>(
  "jobDeadGroups",
  (s) => `SELECT queue, type, last_error, count(*)::int AS count, max(finished_at) AS latest, max(id::text)::uuid AS example
FROM ${s}.jobs
WHERE status = 'dead'
GROUP BY queue, type, last_error
ORDER BY count(*) DESC, max(id::text) DESC
LIMIT $1`,
  (p) => [p.limit],
);
