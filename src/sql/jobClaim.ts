import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { JOB_COLUMNS } from "./jobRow.js";

/**
 * Claims up to $3 claimable jobs in claim order (priority DESC, run_at, id),
 * skipping rows other workers hold, and marks them running under this worker
 * with a lease. The statement itself is the schema's `job_claim` function
 * (migrations/1_init.sql), which pins the plan to an ordered walk of the claim
 * index. The UPDATE inside returns its rows in join order, which for large
 * batches is not claim order, so the rows are sorted again here: the worker
 * runs a batch in the order it comes back.
 *
 * The claim commits without waiting for its WAL flush (`set_config` with
 * `is_local`, so only this statement's own transaction): a claim lost in a
 * server crash leaves the job queued, which at-least-once allows, and the
 * synchronous commit of the job's outcome flushes the claim before it anyway.
 * See docs/worker.md, "Claiming and the buffer".
 *
 * Besides the job's columns it returns `trace_context`, the producer's trace
 * context (see tracing.ts).
 *
 * $1 queues (null: all), $2 job types this worker handles, $3 limit,
 * $4 worker id, $5 lease ms
 */
export const jobClaim = (schema: string): Statement =>
  statement(
    schema,
    "jobClaim",
    `SELECT ${JOB_COLUMNS}, trace_context
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit,
  ${quoteIdent(schema)}.job_claim($1::text[], $2::text[], $3::int, $4::text, $5::float8)
ORDER BY priority DESC, run_at, id`,
  );
