import { z } from "zod";
import type { Executor } from "./db.js";
import type { Job, JobSchemas, JobType, PayloadOf } from "./types.js";
import { JOB_STATUSES } from "./states.js";

/**
 * Zod schemas for every public input, with the defaults. Each schema's error
 * message says what was expected, so `parse()` can build
 * "Expected `field` to be <message>, got ...".
 */

/** The PostgreSQL schema djps's tables live in when no `schema` option is given. */
export const DEFAULT_SCHEMA = "djps";
/** The named queue a job goes to when no `queue` option is given. */
export const DEFAULT_QUEUE = "default";
/** Attempts a job gets when no `maxAttempts` option is given: 3. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** The largest payload a Queue accepts when no `maxPayloadBytes` option is given: 1 MiB of JSON, in bytes. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
export const MAX_INT = 2_147_483_647;

const NAME_TEXT = "a name of 1 to 128 characters from letters, digits and `_ . : - /`";
/** Job types and queue names: safe in logs, metrics labels and CLI arguments. */
export const nameSchema = z.string({ error: NAME_TEXT }).regex(/^[A-Za-z0-9_.:\/-]{1,128}$/, { error: NAME_TEXT });

const SCHEMA_TEXT =
  "a plain lower-case identifier (a letter or `_`, then letters, digits or `_`; at most 40 characters)";
/** The PostgreSQL schema djps lives in: the one identifier spliced into SQL, so it is strict. */
export const schemaNameSchema = z
  .string({ error: SCHEMA_TEXT })
  .regex(/^[a-z_][a-z0-9_]{0,39}$/, { error: SCHEMA_TEXT })
  // PostgreSQL's own schemas: djps's tables must never land among the catalogs.
  .refine((s) => !s.startsWith("pg_") && s !== "information_schema", {
    error: "a schema of its own, not a system schema (`pg_*` or `information_schema`)",
  });

export const intSchema = (min: number, max: number) => {
  const text = `an integer from ${min} to ${max}`;
  return z.number({ error: text }).int({ error: text }).min(min, { error: text }).max(max, { error: text });
};

const ROLE_TEXT = "a role name (letters, digits, `_` or `-`; at most 63 characters)";
/** A PostgreSQL role name for `grant` (quoted when spliced, and restricted to plain characters). */
export const roleNameSchema = z.string({ error: ROLE_TEXT }).regex(/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/, { error: ROLE_TEXT });

const KEY_TEXT = "a string of 1 to 512 characters";
const GROUP_TEXT = "a string of 1 to 256 characters";
/** A group key: jobs of one group are claimed fairly against other groups, and a queue may limit each group (see `queue.setLimits`). */
export const groupKeySchema = z
  .string({ error: GROUP_TEXT })
  .min(1, { error: GROUP_TEXT })
  .max(256, { error: GROUP_TEXT })
  .refine((s) => !s.includes("\u0000") && s.isWellFormed(), { error: `${GROUP_TEXT} without NUL or lone surrogates` });

export const idempotencyKeySchema = z
  .string({ error: KEY_TEXT })
  .min(1, { error: KEY_TEXT })
  .max(512, { error: KEY_TEXT })
  .refine((s) => !s.includes("\u0000") && s.isWellFormed(), { error: `${KEY_TEXT} without NUL or lone surrogates` });

/** The earliest instant PostgreSQL's timestamptz holds: 4714-11-24 00:00 UTC BC (4713 BC). */
const MIN_TIMESTAMP_MS = -210_866_803_200_000;
const DATE_TEXT = "a valid Date from 4713 BC on (PostgreSQL's range)";
export const dateSchema = z
  .date({ error: DATE_TEXT })
  .refine((d) => !Number.isNaN(d.getTime()) && d.getTime() >= MIN_TIMESTAMP_MS, { error: DATE_TEXT });

const ID_TEXT = "a job id (a UUID string)";
export const jobIdSchema = z
  .string({ error: ID_TEXT })
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { error: ID_TEXT });

export const statusSchema = z.enum(JOB_STATUSES, { error: `one of ${JOB_STATUSES.join(", ")}` });

/** Ten years: a delay beyond this is almost surely a unit mistake. */
const MAX_DELAY_MS = 10 * 365 * 24 * 3600 * 1000;

export const enqueueOptionsShape = {
  /** Same (type, key) again returns the first job with `created: false`. */
  idempotencyKey: idempotencyKeySchema.optional(),
  /** Higher runs first. @default 0 */
  priority: intSchema(-32768, 32767).optional(),
  /** Run no earlier than this many milliseconds from now. */
  delayMs: intSchema(0, MAX_DELAY_MS).optional(),
  /** Run no earlier than this time. */
  runAt: dateSchema.optional(),
  /** Attempts before the job is dead. @default 3 */
  maxAttempts: intSchema(1, 1000).optional(),
  /** The named queue. @default "default" */
  queue: nameSchema.optional(),
  /**
   * The job's group (a tenant, an account, a conversation): claims are fair
   * across a queue's groups, and `setLimits(queue, { group: { concurrency } })`
   * caps how many jobs of each group run at once (1: one at a time, in order).
   */
  group: groupKeySchema.optional(),
  /** Abort the handler after this long (overrides the worker's per-type timeout). */
  timeoutMs: intSchema(1, MAX_INT).optional(),
};

/** Builds the enqueue options schema, with extra keys allowed by the caller (e.g. `client`). */
export const enqueueOptionsWith = <E extends z.ZodRawShape>(extra: E) =>
  z
    .strictObject({ ...enqueueOptionsShape, ...extra }, { error: "an options object" })
    .refine((o: { delayMs?: unknown; runAt?: unknown }) => o.delayMs === undefined || o.runAt === undefined, {
      error: "given only when `delayMs` is not (pass one of `delayMs` and `runAt`)",
      path: ["runAt"],
    });

export const enqueueOptionsSchema = enqueueOptionsWith({});
// The option types below are inferred from schemas that are not exported;
// `@useDeclaredType` makes the API docs list their fields instead.
/**
 * Options for `queue.enqueue()` and for each item of `enqueueMany()`.
 * @useDeclaredType
 */
export type EnqueueOptions = z.input<typeof enqueueOptionsSchema>;

export const listJobsOptionsSchema = z.strictObject(
  {
    // A union reports only "invalid input" of its own, so it names the statuses itself.
    /** Only jobs in this status, or in any of these. @default every status */
    status: z
      .union([statusSchema, z.array(statusSchema)], { error: `a status (${JOB_STATUSES.join(", ")}) or an array of them` })
      .optional(),
    /** Only jobs of this named queue. @default every queue */
    queue: nameSchema.optional(),
    /** Only jobs of this type. @default every type */
    type: nameSchema.optional(),
    /** Only jobs of this group (the `group` enqueue option). @default every group, and jobs without one */
    group: groupKeySchema.optional(),
    /** The most jobs in a page, 1 to 1000. @default 100 */
    limit: intSchema(1, 1000).optional(),
    /** The `nextCursor` of the previous page. */
    cursor: z.string({ error: "a cursor returned by listJobs" }).optional(),
  },
  { error: "an options object" },
);
/**
 * Filters and paging for `queue.listJobs()`.
 * @useDeclaredType
 */
export type ListJobsOptions = z.input<typeof listJobsOptionsSchema>;

export const connectionSchemaShape = {
  /** A PostgreSQL connection string. @default process.env.DATABASE_URL */
  connectionString: z.string({ error: "a PostgreSQL connection string" }).min(1, { error: "a PostgreSQL connection string" }).optional(),
  /**
   * An existing `pg.Pool` to use instead of a connection string; `close()`
   * and `stop()` leave it open (djps ends only the pools it creates).
   */
  pool: z
    .custom<import("pg").Pool>((v) => v !== null && typeof v === "object" && typeof (v as any).query === "function" && typeof (v as any).connect === "function", {
      error: "a pg.Pool",
    })
    .optional(),
  /** The schema djps was migrated into. @default "djps" */
  schema: schemaNameSchema.optional(),
};

const zodSchemaSchema = z.custom<z.ZodType>((v) => v instanceof z.ZodType, { error: "a zod schema" });

export const queueOptionsSchema = z.strictObject(
  {
    ...connectionSchemaShape,
    /** Zod schemas per job type; payloads of those types are validated on enqueue. */
    schemas: z.record(z.string(), zodSchemaSchema, { error: "an object of zod schemas by job type" }).optional(),
    /** Largest accepted payload, in bytes of JSON. @default 1048576 (1 MiB) */
    maxPayloadBytes: intSchema(1, 256 * 1024 * 1024).optional(),
    /** Connections in the pool djps creates (ignored with `pool`). @default 10 */
    poolSize: intSchema(1, 1000).optional(),
  },
  { error: "an options object" },
);

/** The option fields as the schema that validates them takes them. */
type QueueOptionFields = z.input<typeof queueOptionsSchema>;

/**
 * Options for `new Queue()`: the fields of the schema that validates them,
 * with `schemas` typed so that they type the payloads.
 */
export interface QueueOptions<S extends JobSchemas = JobSchemas> extends Omit<QueueOptionFields, "schemas"> {
  /**
   * Zod schemas by job type. Payloads of these types are type-checked at
   * compile time and validated on enqueue; other types take any JSON.
   * @example new Queue({ schemas: { send_email: z.object({ to: z.email() }) } })
   */
  schemas?: S;
}

/** One item of `enqueueMany`. */
export interface EnqueueItem<S extends JobSchemas = JobSchemas, T extends JobType<S> = JobType<S>> {
  /** The job type. */
  type: T;
  /** The payload: any JSON, validated by the type's schema when one is registered. */
  payload: PayloadOf<S, T>;
  /** The job's options, as for `enqueue`. */
  options?: EnqueueOptions;
}

/** The Queue's defaults, applied in its constructor. */
export const QUEUE_DEFAULTS = Object.freeze({
  /** The largest payload accepted, in bytes of JSON (1 MiB). */
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  /** Connections in the pool the Queue creates (when no `pool` is given). */
  poolSize: 10,
});

const executorSchema = z.custom<Executor>(
  (v) => v !== null && typeof v === "object" && typeof (v as { query?: unknown }).query === "function",
  { error: "a client with a query(text, values) method" },
);
export const callOptionsShape = {
  /**
   * Run the statement on this client, inside the caller's transaction: the job
   * exists (and workers are woken) only when that transaction commits.
   */
  client: executorSchema.optional(),
};
export const callOptionsSchema = z.strictObject(callOptionsShape, { error: "an options object" });
/**
 * Per-call options that are not about the job: where to run the statement.
 * @useDeclaredType
 */
export type CallOptions = z.input<typeof callOptionsSchema>;
export const enqueueCallSchema = enqueueOptionsWith(callOptionsShape);

const itemSchema = z.strictObject(
  // A custom check rather than z.unknown(): a missing payload then gets a message in the usual shape.
  { type: nameSchema, payload: z.custom<unknown>((v) => v !== undefined, { error: "JSON-serialisable" }), options: enqueueOptionsSchema.optional() },
  { error: "an object with `type`, `payload` and optional `options`" },
);
export const enqueueItemsSchema = z.array(itemSchema, { error: "an array of { type, payload, options }" }).max(100_000, {
  error: "an array of at most 100000 items",
});

/** The most jobs a rate limit may allow per interval (each claim within the interval keeps an entry in the queue's row). */
export const MAX_RATE_LIMIT = 1_000_000;
/** The longest rate interval: a day. */
export const MAX_RATE_INTERVAL_MS = 86_400_000;

export const rateLimitSchema = z.strictObject(
  {
    /** Jobs that may start in any window of `intervalMs`. */
    limit: intSchema(1, MAX_RATE_LIMIT),
    /** The window, in milliseconds. */
    intervalMs: intSchema(1, MAX_RATE_INTERVAL_MS),
  },
  { error: "an object `{ limit, intervalMs }` or null" },
);

export const groupLimitSchema = z.strictObject(
  {
    /** Jobs of one group that may hold a slot at once (running, or failed and waiting for a retry). */
    concurrency: intSchema(1, MAX_INT),
  },
  { error: "an object `{ concurrency }` or null" },
);

export const limitsSchema = z
  .strictObject(
    {
      /** Jobs of the queue running at once across the cluster; null removes the limit, absent keeps it. */
      concurrency: intSchema(1, MAX_INT).nullable().optional(),
      /** Jobs of the queue started per interval across the cluster; null removes the limit, absent keeps it. */
      rate: rateLimitSchema.nullable().optional(),
      /** Jobs of one group running (or waiting for a retry) at once; 1 runs each group's jobs one at a time, in order. Null removes it. */
      group: groupLimitSchema.nullable().optional(),
    },
    { error: "an object `{ concurrency, rate, group }`, or null to remove every limit" },
  )
  .nullable();
/**
 * What `queue.setLimits()` takes: `null` removes every limit; in an object, a
 * field left out keeps its limit and `null` removes it.
 * @useDeclaredType
 */
export type LimitsInput = z.input<typeof limitsSchema>;

export const migrateOptionsSchema = z.strictObject(
  {
    /** A connection string of a role that may create the schema and its tables. @default process.env.DATABASE_URL */
    connectionString: connectionSchemaShape.connectionString,
    /** The schema to create or bring up to date. @default "djps" */
    schema: schemaNameSchema.optional(),
    /** Called with each line of progress. */
    log: z.custom<(line: string) => void>((v) => typeof v === "function", { error: "a function" }).optional(),
  },
  { error: "an options object" },
);
/**
 * Options for `migrate()`.
 * @useDeclaredType
 */
export type MigrateOptions = z.input<typeof migrateOptionsSchema>;

/** What `queue.workers()` accepts. */
export const workersOptionsSchema = z.strictObject(
  {
    /** Only workers heard from within this many ms. @default every row: running workers, and dead ones for an hour */
    seenWithinMs: intSchema(1, MAX_INT).optional(),
  },
  { error: "an options object { seenWithinMs }" },
);
/**
 * Options of `queue.workers()`.
 * @useDeclaredType
 */
export type WorkersOptions = z.input<typeof workersOptionsSchema>;

/** What `queue.waitFor()` accepts. */
export const waitOptionsSchema = z.strictObject(
  {
    /** Give up (reject with a `WaitTimeoutError`) after this many ms. @default no limit */
    timeoutMs: intSchema(1, MAX_INT).optional(),
    /** Give up when this signal aborts (reject with its reason). */
    signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { error: "an AbortSignal" }).optional(),
    /** Called with each new `ctx.progress()` value read while waiting. */
    onProgress: z.custom<(progress: unknown, job: Job) => void>((v) => typeof v === "function", { error: "a function" }).optional(),
  },
  { error: "an options object { timeoutMs, signal, onProgress }" },
);
/**
 * Options of `queue.waitFor()`.
 * @useDeclaredType
 */
export type WaitOptions = z.input<typeof waitOptionsSchema>;
