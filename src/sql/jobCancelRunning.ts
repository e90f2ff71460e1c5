import { plainArray } from "./arrayLiteral.js";
import { query } from "./query.js";

/**
 * Writes `canceled` for running jobs whose cancel was requested and whose
 * handler this worker cut off, fenced on (id, worker id, attempt). Returns
 * the ids written. The statement is the schema's `job_cancel_running`
 * function (migrations/12_cancel_running.sql).
 */
export const jobCancelRunning = query<{ ids: readonly string[]; attempts: readonly number[]; workerId: string }, { id: string }>(
  "jobCancelRunning",
  (s) => `SELECT id FROM ${s}.job_cancel_running($1::uuid[], $2::int[], $3::text)`,
  (p) => [plainArray(p.ids), plainArray(p.attempts), p.workerId],
);
