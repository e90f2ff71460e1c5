import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * Marks many jobs succeeded in one statement, fenced: a row changes only if it
 * is still running under this worker at the same attempt. Returns the ids that
 * changed; a missing id means this worker had lost the job.
 *
 * The statement is the schema's `job_complete` function
 * (migrations/3_batch_writes.sql), whose planner settings pin the plan to one
 * primary-key probe per id, whatever the table's statistics say.
 *
 * $1 ids, $2 attempts, $3 results as JSON text (null: none), $4 worker id
 */
export const jobComplete = (schema: string): Statement =>
  statement(schema, "jobComplete", `SELECT id FROM ${quoteIdent(schema)}.job_complete($1::uuid[], $2::int[], $3::text[], $4::text)`);

/**
 * Which of these attempts this worker already completed: after a write whose
 * reply was lost (the connection dropped after the commit), the retried write
 * matches nothing, and this tells "already done" from "lease lost". Only this
 * worker's own completion can leave its id and attempt on a succeeded row.
 *
 * $1 ids, $2 attempts, $3 worker id
 */
export const jobCompleted = (schema: string): Statement =>
  statement(
    schema,
    "jobCompleted",
    `SELECT j.id FROM ${quoteIdent(schema)}.jobs AS j
JOIN unnest($1::uuid[], $2::int[]) AS u(id, attempt) ON j.id = u.id AND j.attempts = u.attempt
WHERE j.status = 'succeeded' AND j.locked_by = $3`,
  );
