import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

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
 *
 * $1 ids, $2 attempts, $3 messages, $4 stacks, $5 retry delays ms,
 * $6 permanent flags, $7 worker id
 */
export const jobFail = (schema: string): Statement =>
  statement(
    schema,
    "jobFail",
    `SELECT id, status, run_at
FROM ${quoteIdent(schema)}.job_fail($1::uuid[], $2::int[], $3::text[], $4::text[], $5::float8[], $6::bool[], $7::text, ${ERROR_HISTORY_LIMIT})`,
  );
