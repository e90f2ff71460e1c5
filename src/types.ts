import type { z } from "zod";
import type { JobStatus } from "./states.js";

export type { JobStatus };

/** One entry of a job's error history (the newest last; capped at `ERROR_HISTORY_LIMIT`). */
export interface JobErrorRecord {
  /** The attempt that failed, from 1. */
  attempt: number;
  /** When it failed, as an ISO 8601 string. */
  at: string;
  /** The error's message. */
  message: string;
  /** The error's stack trace, when it had one. */
  stack?: string;
  /**
   * Set on the entry the rescuer writes when it puts back a job whose worker
   * died while holding it in its buffer, before its handler started: no
   * attempt was spent.
   */
  unstarted?: true;
}

/** A job as stored. Dates are `Date`s; `payload` and `result` are the JSON that went in. */
export interface Job<Payload = unknown, Result = unknown> {
  /** The job's id: a UUIDv7 string, so ids sort by creation time. */
  id: string;
  /** The named queue it is in (`"default"` unless given). */
  queue: string;
  /** Its job type: which handler runs it. */
  type: string;
  /** The payload it was enqueued with. */
  payload: Payload;
  /** Where it is in its life: see {@link JobStatus}. */
  status: JobStatus;
  /** Higher runs first. */
  priority: number;
  /** Not claimable before this time. */
  runAt: Date;
  /** Attempts started so far (a running job counts its current attempt). */
  attempts: number;
  /** Attempts allowed before the job is `dead` (3 unless given). */
  maxAttempts: number;
  /** Per-job handler timeout, overriding the worker's per-type one. */
  timeoutMs: number | null;
  /** The key given at enqueue; unique per job type while the job is stored. */
  idempotencyKey: string | null;
  /** The worker holding the lease while `running`; null in every other state. */
  lockedBy: string | null;
  /** The lease deadline while `running`. */
  lockedUntil: Date | null;
  /**
   * The message of the latest failed attempt. It stays after a later attempt
   * succeeds (the job's history is kept), so read it together with `status`.
   */
  lastError: string | null;
  /** The newest entries of the job's failure history (up to 10). */
  errors: JobErrorRecord[];
  /** What the handler returned, once `succeeded`; null before (and for a handler that returned nothing). */
  result: Result | null;
  /** When it was enqueued. */
  createdAt: Date;
  /** When its row last changed. */
  updatedAt: Date;
  /**
   * When the latest attempt's handler started. Null before the first attempt,
   * and while a claimed job waits in a worker's buffer for a free slot.
   */
  startedAt: Date | null;
  /** When it reached a final state (`succeeded`, `dead`, `canceled`); null while it may still run. */
  finishedAt: Date | null;
  /**
   * What the handler last reported with `ctx.progress()`: a number from 0 to
   * 100 or a small JSON value; null when it reported none. It stays after the
   * job finishes, and a retry starts from the value of the attempt before.
   */
  progress: unknown;
  /**
   * When `cancel()` was called on the job while it ran: its worker aborts the
   * handler and the job ends `canceled` (or, if the handler finished first,
   * as the handler left it). Null otherwise.
   */
  cancelRequestedAt: Date | null;
  /** The job's group (the `group` enqueue option), or null. See `queue.setLimits` for group limits. */
  group: string | null;
}

/** Zod schemas by job type, for typed and validated payloads. */
export type JobSchemas = Record<string, z.ZodType>;

/** The job types a Queue or Worker accepts: the registered ones (for autocompletion) or any string. */
export type JobType<S extends JobSchemas> = (keyof S & string) | (string & {});

/** The payload a job type takes: the schema's input type when one is registered, else any JSON. */
export type PayloadOf<S extends JobSchemas, T extends string> = T extends keyof S ? z.input<S[T]> : unknown;

/** The payload a handler receives: the schema's output type when one is registered. */
export type ParsedPayloadOf<S extends JobSchemas, T extends string> = T extends keyof S ? z.output<S[T]> : unknown;

/** What `enqueue` returns: the job, and whether this call created it (false: the idempotency key existed). */
export interface EnqueueResult<Payload = unknown> {
  /** The job created, or the one that already had the idempotency key. */
  job: Job<Payload>;
  /** Whether this call created the job. */
  created: boolean;
}

/** A page of `listJobs`. */
export interface JobPage {
  /** The jobs of this page, newest first. */
  jobs: Job[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** Job counts by status. */
export type StatusCounts = Record<JobStatus, number>;

/** A queue's pause state (`queue.pause`, `queue.resume`, `queue.pausedQueues`). */
export interface QueueState {
  /** The queue's name. */
  queue: string;
  /** Whether workers are kept from claiming its jobs. */
  paused: boolean;
  /** When it was paused; null while it runs. */
  pausedAt: Date | null;
}

/** A rate limit: at most `limit` jobs start in any window of `intervalMs`. */
export interface RateLimit {
  /** Jobs that may start in any window of `intervalMs`. */
  limit: number;
  /** The window, in ms. */
  intervalMs: number;
}

/** A queue's cluster-wide limits; null means no limit of that kind. */
export interface QueueLimits {
  /** Jobs of the queue running at once, across every worker and process. */
  concurrency: number | null;
  /** Jobs of the queue started per interval, across every worker and process. */
  rate: RateLimit | null;
  /** Jobs of one group holding a slot at once (running, or failed and waiting for a retry); 1: one at a time, in order. */
  group: GroupLimit | null;
}

/** A per-group limit: at most `concurrency` jobs of each group hold a slot at once. */
export interface GroupLimit {
  /** Jobs of one group that may hold a slot at once (running, or failed and waiting for a retry); 1 runs a group's jobs one at a time, in order. */
  concurrency: number;
}

/** A queue's limits, named (`queue.setLimits`, `queue.getLimits`, `queue.listLimits`). */
export interface QueueLimitsState extends QueueLimits {
  /** The queue's name. */
  queue: string;
}

/**
 * Jobs that reached a final or retry state within a window: succeeded, dead
 * and canceled by their `finishedAt`; failed = jobs whose latest attempt
 * failed in the window and that wait for a retry (a job that failed and then
 * succeeded or died counts under its final state).
 */
export interface RecentCounts {
  /** Jobs that succeeded in the window. */
  succeeded: number;
  /** Jobs whose latest attempt failed in the window and that wait for a retry. */
  failed: number;
  /** Jobs that went to dead in the window. */
  dead: number;
  /** Jobs canceled in the window. */
  canceled: number;
}

/** One queue in `stats()`. */
export interface QueueStatsEntry {
  /** The queue's name. */
  queue: string;
  /** Its jobs by status. */
  counts: StatusCounts;
  /** All its jobs. */
  total: number;
  /** Whether it is paused. */
  paused: boolean;
  /** Its limits, or null when it has none (see `queue.setLimits`). */
  limits: QueueLimits | null;
  /** Age in ms of the oldest job that could be claimed now (queued or failed, due); null when none waits. */
  lagMs: number | null;
  /** Jobs of the queue finished (or failed) in the last minute. */
  lastMinute: RecentCounts;
  /** Jobs of the queue finished (or failed) in the last hour. */
  lastHour: RecentCounts;
}

/** What `stats()` returns. */
export interface QueueStats {
  /** One entry per named queue that holds jobs, is paused or is limited, sorted by name. */
  queues: QueueStatsEntry[];
  /** The sums over all queues. */
  totals: StatusCounts;
  /** The largest lag of any queue; null when no job waits. */
  lagMs: number | null;
  /** Jobs of every queue finished (or failed) in the last minute. */
  lastMinute: RecentCounts;
  /** Jobs of every queue finished (or failed) in the last hour. */
  lastHour: RecentCounts;
}

/** A worker that is running (or died less than an hour ago), as `queue.workers()` lists it. */
export interface WorkerInfo {
  /** The worker's `workerId`. */
  id: string;
  /** The machine's host name, and the process id there. */
  host: string;
  /** Its process id on `host`. */
  pid: number;
  /** The queues it claims from; null for every queue. */
  queues: string[] | null;
  /** The job types it has handlers for. */
  types: string[];
  /** Jobs it runs at once at most (its `concurrency` option). */
  concurrency: number;
  /** Handlers it was running when it last reported. */
  running: number;
  /** When it started. */
  startedAt: Date;
  /**
   * When it last reported: workers report every `heartbeatIntervalMs` (a
   * third of the lease, 10 s by default). A worker that stopped cleanly is
   * gone from the list; one that died stays, with this time no longer
   * moving, for an hour.
   */
  seenAt: Date;
}
