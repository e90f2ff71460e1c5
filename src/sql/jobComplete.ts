import { plainArray, textArray } from "./arrayLiteral.js";
import { query } from "./query.js";

/**
 * Marks many jobs succeeded in one statement, fenced: a row changes only if it
 * is still running under this worker at the same attempt. Returns the ids that
 * changed; a missing id means this worker had lost the job.
 *
 * The statement is the schema's `job_complete` function
 * (migrations/5_started_and_probes.sql), whose planner settings pin the plan to
 * one index probe per id, whatever the table's statistics say. It clears
 * `locked_by`, which names the lease holder only while a job runs.
 */
export const jobComplete = query<
  {
    ids: readonly string[];
    attempts: readonly number[];
    /** JSON text, null for none. */
    results: readonly (string | null)[];
    workerId: string;
  },
  { id: string }
>(
  "jobComplete",
  (s) => `SELECT id FROM ${s}.job_complete($1::uuid[], $2::int[], $3::text[], $4::text)`,
  (p) => [plainArray(p.ids), plainArray(p.attempts), textArray(p.results), p.workerId],
);

/**
 * The attempts among these ids that are already `succeeded`: after a write
 * whose reply was lost (the connection dropped after the commit), the retried
 * write matches nothing, and this tells "already done" from "lease lost".
 * Attempt numbers only grow, so a succeeded row at the attempt this worker
 * claimed was finished by this worker's own write. The caller matches the
 * attempts; the statement only probes the ids (no join the planner could turn
 * into a scan).
 */
export const jobCompleted = query<{ ids: readonly string[] }, { id: string; attempts: number }>(
  "jobCompleted",
  (s) => `SELECT id, attempts FROM ${s}.jobs WHERE id = ANY($1::uuid[]) AND status = 'succeeded'`,
  (p) => [p.ids],
);
