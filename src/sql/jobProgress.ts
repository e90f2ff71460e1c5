import { plainArray, textArray } from "./arrayLiteral.js";
import { query } from "./query.js";

/**
 * Stores the latest progress of many running jobs in one statement, fenced
 * like `jobHeartbeat` on (id, worker id, attempt). Returns the ids written;
 * a missing id is a job this worker no longer holds (or that finished).
 * The statement is the schema's `job_progress` function
 * (migrations/10_progress.sql).
 */
export const jobProgress = query<
  {
    ids: readonly string[];
    attempts: readonly number[];
    /** JSON text. */
    values: readonly string[];
    workerId: string;
  },
  { id: string }
>(
  "jobProgress",
  (s) => `SELECT id FROM ${s}.job_progress($1::uuid[], $2::int[], $3::text[], $4::text)`,
  (p) => [plainArray(p.ids), plainArray(p.attempts), textArray(p.values), p.workerId],
);
