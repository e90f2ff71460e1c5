import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ConnectionOptions } from "../db.js";
import { ValidationError } from "../errors.js";
import { silentLogger, type Logger } from "../logger.js";
import type { MaintenanceSettings } from "../maintenance/duties.js";
import { DEFAULT_RETENTION } from "../maintenance/pruner.js";
import { retentionSchema } from "../maintenance/retention.js";
import { connectionSchemaShape, intSchema, MAX_INT, nameSchema } from "../options.js";
import { jobsChannel, schemaName } from "../schema-name.js";
import { parse } from "../validate.js";
import { backoffSchema } from "./backoff.js";
import type { Handler, ResolvedHandler } from "./executor.js";


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

/** How often a maintenance duty runs, in ms. */
const intervalSchema = intSchema(50, MAX_INT);

/**
 * The Worker's defaults, in one place: `new Worker()` applies them and the
 * API docs and README quote them. `heartbeatIntervalMs` defaults to a third
 * of `leaseMs`; `workerId` to `<host>:<pid>:<random>`.
 */
export const WORKER_DEFAULTS = Object.freeze({
  /** Jobs run at once by one worker. */
  concurrency: 10,
  /** How long a claimed job is held before another worker may rescue it, in ms. */
  leaseMs: 30_000,
  /** How often an idle worker looks for jobs when no notification came, in ms. */
  pollIntervalMs: 1000,
  /** Wake on LISTEN/NOTIFY as soon as a job is enqueued. */
  listen: true,
  /** Retry timing: 1 s after the first failure, doubling, at most 1 hour, up to 25 % taken off at random. */
  backoff: Object.freeze({
    /** Delay after the first failed attempt, in ms. */
    baseMs: 1000,
    /** Growth of the delay per failed attempt. */
    factor: 2,
    /** Upper bound of a delay, in ms (1 hour). */
    maxMs: 3_600_000,
    /** Fraction of the delay taken off at random, to spread retries. */
    jitter: 0.25,
  }),
  /** Rescue of jobs whose lease passed. */
  rescue: Object.freeze({
    /** How often to look, in ms. */
    intervalMs: 15_000,
  }),
  /** Retention: the ages of {@link DEFAULT_RETENTION} (succeeded jobs 3 days, dead and canceled 14 days), checked every minute. */
  retention: Object.freeze({
    ...DEFAULT_RETENTION,
    /** How often the maintenance loop prunes, in ms. */
    intervalMs: 60_000,
  }),
  /** Recurring schedules: enqueued by every worker unless turned off. */
  scheduler: Object.freeze({
    /** How often to look for due ticks, in ms. */
    intervalMs: 1000,
  }),
  /** Whether SIGINT and SIGTERM stop the worker. */
  handleSignals: false,
  /** Grace period for running jobs at `stop()`, in ms. */
  shutdownTimeoutMs: 30_000,
  /** Connections in the pool the worker creates (when no `pool` is given). */
  poolSize: 6,
  /** Logs nothing. */
  logger: silentLogger,
});

/**
 * The retry timing a Worker uses when none is given (`WORKER_DEFAULTS.backoff`):
 * 1 s after the first failure, doubling with each failure, at most 1 hour,
 * with up to a quarter of each delay taken off at random. See `retryDelayMs`.
 */
export const DEFAULT_BACKOFF = WORKER_DEFAULTS.backoff;

const both = (grouped: string, flat: string) => ({
  error: `either \`${grouped}\` or the older \`${flat}\`, not both`,
  path: [flat],
});

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
      /** Maintenance: how often to rescue jobs whose lease passed (their worker died). @default { intervalMs: 15000 } */
      rescue: z
        .strictObject(
          {
            /** How often to look for jobs whose lease passed, in ms (at least 50). @default 15000 */
            intervalMs: intervalSchema.optional(),
          },
          { error: "an object { intervalMs }" },
        )
        .optional(),
      /**
       * Maintenance: how long finished jobs are kept before they are deleted
       * (in batches, one worker at a time), and how often to look; `false`
       * keeps every job forever.
       * @default { succeededMs: 3 days, deadMs: 14 days, canceledMs: 14 days, intervalMs: 60000 }
       */
      retention: retentionSchema.optional(),
      /**
       * Maintenance: enqueue the jobs of recurring schedules (`queue.schedule`),
       * and how often to look for due ticks; `false` leaves it to other
       * workers. Every worker may: each tick makes one job.
       * @default { intervalMs: 1000 }
       */
      scheduler: z
        .union(
          [
            z.boolean(),
            z.strictObject({
              /** How often to look for due ticks, in ms (at least 50). @default 1000 */
              intervalMs: intervalSchema.optional(),
            }),
          ],
          { error: "true, false, or an object { intervalMs }" },
        )
        .optional(),
      /** @deprecated Use `rescue: { intervalMs }`. */
      rescueIntervalMs: intervalSchema.optional(),
      /** @deprecated Use `scheduler: { intervalMs }`. */
      schedulerIntervalMs: intervalSchema.optional(),
      /** Zod schemas by job type, checked before the handler runs (as on the Queue); they also type the handlers' payloads. */
      schemas: z.record(z.string(), z.custom<z.ZodType>((v) => v instanceof z.ZodType, { error: "a zod schema" }), { error: "an object of zod schemas by job type" }).optional(),
      /**
       * Stop gracefully on SIGINT and SIGTERM, then let the signal take its
       * course. The workers of one process that set it stop together, and the
       * signal is raised again once the last has stopped; a second signal
       * releases their running jobs at once. @default false
       */
      handleSignals: z.boolean({ error: "a boolean" }).optional(),
      /** Grace period for `stop()` when none is given (and for signals). @default 30000 */
      shutdownTimeoutMs: intSchema(0, MAX_INT).optional(),
      /** Where logs go (pino-compatible). @default silent */
      logger: loggerSchema.optional(),
      /** Identifies this worker in `locked_by`. @default "<host>:<pid>:<random>" */
      workerId: workerIdSchema.optional(),
      /** Connections in the pool djps creates (ignored with `pool`). @default 6 */
      poolSize: intSchema(2, 1000).optional(),
    },
    { error: "an options object" },
  )
  .refine((o) => o.heartbeatIntervalMs === undefined || o.heartbeatIntervalMs < (o.leaseMs ?? WORKER_DEFAULTS.leaseMs), {
    error: "shorter than `leaseMs`",
    path: ["heartbeatIntervalMs"],
  })
  .refine((o) => o.rescueIntervalMs === undefined || o.rescue?.intervalMs === undefined, both("rescue.intervalMs", "rescueIntervalMs"))
  .refine(
    (o) => o.schedulerIntervalMs === undefined || typeof o.scheduler !== "object" || o.scheduler.intervalMs === undefined,
    both("scheduler.intervalMs", "schedulerIntervalMs"),
  );

/** A Worker's options with every default applied and every handler resolved. */
export interface ResolvedWorkerOptions extends MaintenanceSettings {
  connection: ConnectionOptions;
  schema: string;
  /** The schema's NOTIFY channel. */
  channel: string;
  workerId: string;
  handlers: ReadonlyMap<string, ResolvedHandler>;
  concurrency: number;
  /** null: every queue. */
  queues: readonly string[] | null;
  leaseMs: number;
  heartbeatIntervalMs: number;
  pollIntervalMs: number;
  listen: boolean;
  handleSignals: boolean;
  shutdownTimeoutMs: number;
  logger: Logger;
  poolSize: number;
}

/**
 * Validates a Worker's handlers and options (throwing a `ValidationError`
 * that names the field) and applies the defaults: the one place they are
 * applied.
 */
export function resolveWorkerOptions(handlers: unknown, options: unknown): ResolvedWorkerOptions {
  const specs = parse(handlersSchema, handlers, "handlers");
  const o = parse(workerOptionsSchema, options, "options");
  const d = WORKER_DEFAULTS;
  const listen = o.listen ?? d.listen;
  // The LISTEN connection stays checked out: with a one-connection pool no
  // claim would ever get a connection, and the worker would hang silently.
  const poolMax = (o.pool as { options?: { max?: number } } | undefined)?.options?.max;
  if (listen && poolMax !== undefined && poolMax < 2) {
    throw new ValidationError(
      "options.pool",
      `Expected \`options.pool\` to allow at least 2 connections (one stays on LISTEN), got \`max: ${poolMax}\`; or pass \`listen: false\``,
    );
  }
  const backoff = { ...d.backoff, ...o.backoff };
  const resolved = new Map<string, ResolvedHandler>();
  for (const [type, spec] of Object.entries(specs)) {
    resolved.set(type, {
      handler: spec.handler as Handler,
      timeoutMs: spec.timeoutMs ?? o.timeoutMs,
      backoff: { ...backoff, ...spec.backoff },
      schema: spec.schema ?? o.schemas?.[type],
    });
  }
  const leaseMs = o.leaseMs ?? d.leaseMs;
  const schema = schemaName(o.schema);
  const scheduler = o.scheduler ?? true;
  return {
    connection: { connectionString: o.connectionString, pool: o.pool },
    schema,
    channel: jobsChannel(schema),
    workerId: o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`,
    handlers: resolved,
    concurrency: o.concurrency ?? d.concurrency,
    queues: o.queues ?? null,
    leaseMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? Math.floor(leaseMs / 3),
    pollIntervalMs: o.pollIntervalMs ?? d.pollIntervalMs,
    listen,
    handleSignals: o.handleSignals ?? d.handleSignals,
    shutdownTimeoutMs: o.shutdownTimeoutMs ?? d.shutdownTimeoutMs,
    logger: o.logger ?? d.logger,
    poolSize: o.poolSize ?? d.poolSize,
    rescue: { intervalMs: o.rescue?.intervalMs ?? o.rescueIntervalMs ?? d.rescue.intervalMs },
    retention: { ...d.retention, ...definedOnly(o.retention ?? {}) },
    scheduler:
      scheduler === false ? false : { intervalMs: (scheduler === true ? undefined : scheduler.intervalMs) ?? o.schedulerIntervalMs ?? d.scheduler.intervalMs },
  };
}

/** The fields that were given: an explicit `undefined` takes the default, as an absent field does. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

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
