import type pg from "pg";
import type { z } from "zod";
import type { Logger } from "../logger.js";
import type { JobSchemas, ParsedPayloadOf } from "../types.js";
import type { RetentionOptions } from "../maintenance/retention.js";
import type { Handler } from "./executor.js";
import type { BackoffOptions } from "./options.js";

/** A handler with per-type settings. */
export interface HandlerSpec<Payload = any, Result = unknown> {
  handler: Handler<Payload, Result>;
  /** Abort the handler and fail the attempt after this long (a job's own `timeoutMs` wins). */
  timeoutMs?: number;
  /** Retry timing for this type, over the worker's. */
  backoff?: BackoffOptions;
  /** Validates the payload before the handler runs (over the worker's `schemas`). */
  schema?: z.ZodType;
}

/** Handlers by job type; typed by the worker's `schemas` where registered. */
export type Handlers<S extends JobSchemas = {}> = {
  [T in keyof S & string]?: Handler<ParsedPayloadOf<S, T>> | HandlerSpec<ParsedPayloadOf<S, T>>;
} & Record<string, Handler | HandlerSpec>;

/** Options for `new Worker()`. See each field's default. */
export interface WorkerOptions<S extends JobSchemas = {}> {
  /** @default process.env.DATABASE_URL */
  connectionString?: string;
  /** An existing pool; `stop()` leaves it open. It needs a free connection for LISTEN besides the claim and completion ones. */
  pool?: pg.Pool;
  /** @default "djps" */
  schema?: string;
  /** Jobs run at once. @default 10 */
  concurrency?: number;
  /** Named queues to take jobs from. @default every queue */
  queues?: string[];
  /** How long a claimed job is held before another worker may rescue it. @default 30000 */
  leaseMs?: number;
  /** How often this worker extends its leases. @default leaseMs / 3 */
  heartbeatIntervalMs?: number;
  /** Polling interval, the fallback to notifications (and the only way with `listen: false`). @default 1000 */
  pollIntervalMs?: number;
  /** Wake on LISTEN/NOTIFY. Set false behind a transaction-mode pooler. @default true */
  listen?: boolean;
  /** Default handler timeout for all types. @default none */
  timeoutMs?: number;
  /** Retry timing. @default { baseMs: 1000, factor: 2, maxMs: 3600000, jitter: 0.25 } */
  backoff?: BackoffOptions;
  /** How often to rescue jobs whose lease passed. @default 15000 */
  rescueIntervalMs?: number;
  /**
   * How long finished jobs are kept before the maintenance loop deletes them
   * (in batches, one worker at a time); `false` keeps every job forever.
   * @default { succeededMs: 3 days, deadMs: 14 days, canceledMs: 14 days, intervalMs: 60000 }
   */
  retention?: RetentionOptions | false;
  /** Enqueue the jobs of recurring schedules (`queue.schedule`); every worker may, each tick makes one job. @default true */
  scheduler?: boolean;
  /** How often the scheduler looks for due ticks. @default 1000 */
  schedulerIntervalMs?: number;
  /** Zod schemas by job type, checked before the handler runs. */
  schemas?: S;
  /**
   * Stop gracefully on SIGINT/SIGTERM, then let the signal take its course.
   * The workers of one process that set it stop together, and the signal is
   * raised again once the last has stopped; a second signal releases their
   * running jobs at once. @default false
   */
  handleSignals?: boolean;
  /** Grace period of `stop()` and of signals. @default 30000 */
  shutdownTimeoutMs?: number;
  /** pino-compatible logger. @default silent */
  logger?: Logger;
  /** This worker's id in `locked_by`. @default "<host>:<pid>:<random>" */
  workerId?: string;
  /** Connections in the pool djps creates. @default 4 */
  poolSize?: number;
}
