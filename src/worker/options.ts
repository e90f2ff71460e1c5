import { z } from "zod";
import type { Logger } from "../logger.js";
import { retentionSchema } from "../maintenance/retention.js";
import { connectionSchemaShape, intSchema, MAX_INT, nameSchema } from "../options.js";

/** Retry timing: attempt n waits min(maxMs, baseMs * factor^(n-1)), then jitter takes off up to `jitter` of it. */
export interface BackoffOptions {
  /** Delay after the first failed attempt. @default 1000 */
  baseMs?: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
  /** Upper bound of a delay. @default 3600000 (1 hour) */
  maxMs?: number;
  /** Fraction of the delay that is randomised away, 0 to 1, to spread retries. @default 0.25 */
  jitter?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = Object.freeze({
  baseMs: 1000,
  factor: 2,
  maxMs: 3_600_000,
  jitter: 0.25,
});

export const backoffSchema = z.strictObject(
  {
    baseMs: intSchema(0, MAX_INT).optional(),
    factor: z.number({ error: "a number from 1 to 100" }).min(1, { error: "a number from 1 to 100" }).max(100, { error: "a number from 1 to 100" }).optional(),
    maxMs: intSchema(0, MAX_INT).optional(),
    jitter: z.number({ error: "a number from 0 to 1" }).min(0, { error: "a number from 0 to 1" }).max(1, { error: "a number from 0 to 1" }).optional(),
  },
  { error: "a backoff object { baseMs, factor, maxMs, jitter }" },
);

const fn = (what: string) => z.custom<(...args: any[]) => unknown>((v) => typeof v === "function", { error: what });

/** A handler given as an object, with per-type settings. */
export const handlerSpecSchema = z.strictObject(
  {
    handler: fn("a function (payload, ctx) => result"),
    /** Abort the handler (ctx.signal) and fail the attempt after this long. */
    timeoutMs: intSchema(1, MAX_INT).optional(),
    /** Retry timing for this type, over the worker's. */
    backoff: backoffSchema.optional(),
    /** Validates the payload before the handler runs; an invalid payload kills the job. */
    schema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, { error: "a zod schema" }).optional(),
  },
  { error: "a handler function or { handler, timeoutMs, backoff, schema }" },
);

/**
 * A handler function, or a spec. A bare function is read as `{ handler }`, so
 * a spec that fails is reported at its field (a union would report only that
 * the entry as a whole matched neither form).
 */
const handlerEntrySchema = z.preprocess((v) => (typeof v === "function" ? { handler: v } : v), handlerSpecSchema);

export const handlersSchema = z
  .record(nameSchema, handlerEntrySchema, {
    error: (issue) =>
      issue.code === "invalid_key"
        ? "a handler under a valid job type name (1 to 128 characters from letters, digits and `_ . : - /`)"
        : "an object of handlers by job type",
  })
  .refine((h) => Object.keys(h).length > 0, { error: "an object with at least one handler" });

const WORKER_ID_TEXT = "a string of 1 to 200 printable characters (no control characters, no lone surrogates)";
/**
 * Worker ids are stored (`locked_by`), logged and printed by the CLI: text
 * PostgreSQL can store (no NUL) and a terminal shows as it is (no control
 * characters).
 */
export const workerIdSchema = z
  .string({ error: WORKER_ID_TEXT })
  .min(1, { error: WORKER_ID_TEXT })
  .max(200, { error: WORKER_ID_TEXT })
  .refine((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s) && s.isWellFormed(), { error: WORKER_ID_TEXT });

const loggerSchema = z.custom<Logger>(
  (v) => v !== null && typeof v === "object" && ["debug", "info", "warn", "error"].every((m) => typeof (v as any)[m] === "function"),
  { error: "a logger with debug, info, warn and error methods" },
);

export const workerOptionsSchema = z
  .strictObject(
    {
      ...connectionSchemaShape,
      /** Jobs run at once by this worker. @default 10 */
      concurrency: intSchema(1, 10_000).optional(),
      /** Named queues to take jobs from. @default every queue */
      queues: z.array(nameSchema, { error: "an array of queue names" }).min(1, { error: "a non-empty array of queue names" }).optional(),
      /** How long a claimed job is held before another worker may rescue it. @default 30000 */
      leaseMs: intSchema(1000, MAX_INT).optional(),
      /** How often leases are extended. @default leaseMs / 3 */
      heartbeatIntervalMs: intSchema(100, MAX_INT).optional(),
      /** How often to look for jobs when no notification came (the fallback, and the only way with `listen: false`). @default 1000 */
      pollIntervalMs: intSchema(10, MAX_INT).optional(),
      /** Use LISTEN/NOTIFY to wake at once on new jobs. Turn off behind a transaction-mode connection pooler. @default true */
      listen: z.boolean({ error: "a boolean" }).optional(),
      /** Default handler timeout for every type. @default none */
      timeoutMs: intSchema(1, MAX_INT).optional(),
      /** Retry timing. @default { baseMs: 1000, factor: 2, maxMs: 3600000, jitter: 0.25 } */
      backoff: backoffSchema.optional(),
      /** How often the maintenance loop rescues jobs whose lease passed. @default 15000 */
      rescueIntervalMs: intSchema(50, MAX_INT).optional(),
      /** How long finished jobs are kept before the maintenance loop deletes them; false keeps them forever. @default succeeded 3 days, dead and canceled 14 days */
      retention: retentionSchema.optional(),
      /** Enqueue the jobs of recurring schedules (`queue.schedule`). @default true */
      scheduler: z.boolean({ error: "a boolean" }).optional(),
      /** How often the scheduler looks for due ticks. @default 1000 */
      schedulerIntervalMs: intSchema(50, MAX_INT).optional(),
      /** Zod schemas by job type, checked before the handler runs (as on the Queue). */
      schemas: z.record(z.string(), z.custom<z.ZodType>((v) => v instanceof z.ZodType, { error: "a zod schema" }), { error: "an object of zod schemas by job type" }).optional(),
      /** Stop gracefully on SIGINT and SIGTERM. @default false */
      handleSignals: z.boolean({ error: "a boolean" }).optional(),
      /** Grace period for `stop()` when none is given (and for signals). @default 30000 */
      shutdownTimeoutMs: intSchema(0, MAX_INT).optional(),
      /** Where logs go (pino-compatible). @default silent */
      logger: loggerSchema.optional(),
      /** Identifies this worker in `locked_by`. @default host:pid:random */
      workerId: workerIdSchema.optional(),
      /** Connections in the pool djps creates (ignored with `pool`). @default 4 */
      poolSize: intSchema(2, 1000).optional(),
    },
    { error: "an options object" },
  )
  .refine((o: { leaseMs?: number; heartbeatIntervalMs?: number }) => o.heartbeatIntervalMs === undefined || o.heartbeatIntervalMs < (o.leaseMs ?? 30_000), {
    error: "shorter than `leaseMs`",
    path: ["heartbeatIntervalMs"],
  });

/** `worker.stop(options)`: the grace period for running jobs. */
export const stopOptionsSchema = z
  .strictObject(
    {
      /** How long to wait for running jobs before releasing them. @default shutdownTimeoutMs */
      timeoutMs: intSchema(0, MAX_INT).optional(),
    },
    { error: "an options object { timeoutMs }" },
  )
  .optional();
