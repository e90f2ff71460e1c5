import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { JOB_COLUMNS } from "./jobRow.js";

/**
 * Claims up to $3 claimable jobs in claim order (priority DESC, run_at, id),
 * skipping rows other workers hold, and marks them running under this worker.
 * The first $4 of them start at once: they get `started_at` and the full
 * lease ($6). The rest are held in the worker's buffer until a slot frees:
 * `started_at` stays null and their lease is the short hold ($7), which
 * heartbeats do not extend; the heartbeat that starts one marks it. A job
 * whose hold passes before it started goes back to `queued` without spending
 * an attempt (see `jobRescue`).
 *
 * The statement is the schema's `job_claim` function
 * (migrations/5_started_and_probes.sql), which pins the plan to an ordered
 * walk of the claim index and one probe per claimed id. The UPDATE inside
 * returns its rows in join order, so they are sorted again here: the worker
 * runs a batch in the order it comes back.
 *
 * The claim commits synchronously, like every write a worker relies on: a
 * claim lost in a server crash would let a second worker run the same attempt
 * while the first one still runs it. See docs/worker.md, "Claiming and the
 * buffer".
 *
 * Besides the job's columns it returns `trace_context`, the producer's trace
 * context (see tracing.ts).
 *
 * $1 queues (null: all), $2 job types this worker handles, $3 limit,
 * $4 how many start at once, $5 worker id, $6 lease ms, $7 hold ms
 */
export const jobClaim = (schema: string): Statement =>
  statement(
    schema,
    "jobClaim",
    `SELECT ${JOB_COLUMNS}, trace_context
FROM ${quoteIdent(schema)}.job_claim($1::text[], $2::text[], $3::int, $4::int, $5::text, $6::float8, $7::float8)
ORDER BY priority DESC, run_at, id`,
  );
