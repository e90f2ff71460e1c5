import { JOB_COLUMNS, type JobRow } from "./jobRow.js";
import { query } from "./query.js";

/**
 * Claims up to `limit` claimable jobs in claim order (priority DESC, run_at, id),
 * skipping rows other workers hold, and marks them running under this worker.
 * The first `start` of them start at once: they get `started_at` and the full
 * lease (`leaseMs`). The rest are held in the worker's buffer until a slot
 * frees: `started_at` stays null and their lease is the short hold
 * (`holdMs`), which heartbeats do not extend; the heartbeat that starts one
 * marks it. A job whose hold passes before it started goes back to `queued`
 * without spending an attempt (see `jobRescue`).
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
 * Limited queues (docs/flow-control.md) are claimed within their limits, for
 * free slots only. When a rate limit left free slots unfilled, one row is not
 * a job: `id` null, and `timeout_ms` the milliseconds until the rate has room
 * again (the database's clock, so no clock skew enters), for the worker's
 * timer: no event announces that a rate window moved on.
 */
/** A claimed job, or the row saying when a rate limit has room again. */
export type ClaimRow = (JobRow & { trace_context: unknown }) | { id: null; timeout_ms: number };

/** Whether a claim row is a job (not the rate limit's wait row). */
export const isClaimedJob = (row: ClaimRow): row is JobRow & { trace_context: unknown } => row.id !== null;

export const jobClaim = query<
  {
    /** null: every queue. */
    queues: readonly string[] | null;
    types: readonly string[];
    limit: number;
    start: number;
    workerId: string;
    leaseMs: number;
    holdMs: number;
  },
  ClaimRow
>(
  "jobClaim",
  (s) => `SELECT ${JOB_COLUMNS}, trace_context
FROM ${s}.job_claim($1::text[], $2::text[], $3::int, $4::int, $5::text, $6::float8, $7::float8, true)
ORDER BY priority DESC, run_at, id`,
  (p) => [p.queues, p.types, p.limit, p.start, p.workerId, p.leaseMs, p.holdMs],
);
