/**
 * The job states and the sets of them that operations accept. The code checks
 * against these lists and the SQL is written from them (see `sql/ident.ts`'s
 * `sqlList`), so the two cannot disagree.
 */

/** Every state a job can be in. */
export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "canceled", "dead"] as const;
/**
 * A job's state: `queued` (waiting to run, or to reach its `runAt`),
 * `running` (a worker holds its lease), `succeeded` (its handler returned),
 * `failed` (an attempt failed and it waits to be retried), `canceled`
 * (canceled before it finished) or `dead` (no attempts left, or failed
 * permanently; see the dead-letter methods).
 */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** States a worker may claim from (when due). */
export const CLAIMABLE = ["queued", "failed"] as const satisfies readonly JobStatus[];

/** The states `cancel` accepts: a running job is the worker's to finish. */
export const CANCELABLE = ["queued", "failed"] as const satisfies readonly JobStatus[];

/** The states `retry` accepts. */
export const RETRYABLE = ["failed", "dead", "canceled"] as const satisfies readonly JobStatus[];

/** The finished states, which retention and `queue.prune()` may delete. */
export const PRUNABLE_STATUSES = ["succeeded", "dead", "canceled"] as const satisfies readonly JobStatus[];
// `@useDeclaredType`: the API docs spell out the statuses, not the type expression.
/**
 * A finished status that retention and `queue.prune()` may delete.
 * @useDeclaredType
 */
export type PrunableStatus = (typeof PRUNABLE_STATUSES)[number];
