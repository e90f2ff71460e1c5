import type { JobStatus } from "../states.js";
import { query } from "./query.js";

/** How many entries of error history a job keeps (the newest). */
export const ERROR_HISTORY_LIMIT = 10;

/**
 * Records failed attempts for many jobs in one statement, fenced like
 * `jobComplete`. A job with attempts left (and not failed permanently) goes
 * to `failed` with run_at moved out by its delay; otherwise to `dead`.
 * Returns each changed id with its new status and run_at.
 *
 * The statement is the schema's `job_fail` function
 * (migrations/5_started_and_probes.sql), whose planner settings pin the plan to one
 * index probe per id, whatever the table's statistics say.
 */
export const jobFail = query<
  {
    ids: readonly string[];
    attempts: readonly number[];
    messages: readonly string[];
    stacks: readonly (string | null)[];
    delaysMs: readonly number[];
    permanent: readonly boolean[];
    workerId: string;
  },
  { id: string; status: JobStatus; run_at: Date }
>(
  "jobFail",
  (s) => `SELECT id, status, run_at
FROM ${s}.job_fail($1::uuid[], $2::int[], $3::text[], $4::text[], $5::float8[], $6::bool[], $7::text, ${ERROR_HISTORY_LIMIT})`,
  (p) => [p.ids, p.attempts, p.messages, p.stacks, p.delaysMs, p.permanent, p.workerId],
);
