import { z } from "zod";
import { enqueueOptionsShape, groupKeySchema, idempotencyKeySchema, intSchema, limitsSchema, nameSchema, statusSchema } from "../options.js";
import { JOB_STATUSES } from "../states.js";

/**
 * The zod schemas of the HTTP API: the request schemas validate bodies and
 * query strings, built from the same field schemas as the `Queue` API; the
 * response schemas only describe. `openapi.ts` renders every one of them into
 * the OpenAPI document, so the document and the validation cannot disagree.
 * Each is registered under its component name.
 */
export const apiSchemas = z.registry<{ id: string; description?: string }>();

const named = <S extends z.ZodType>(schema: S, id: string, description?: string): S => {
  apiSchemas.add(schema, description === undefined ? { id } : { id, description });
  return schema;
};

const DATE_TEXT = "an ISO 8601 date-time with an offset, e.g. `2026-01-01T09:00:00Z`";
/** A time in a body or query: ISO 8601 with `Z` or an offset, read as a Date. */
const isoDate = z.iso.datetime({ offset: true, error: DATE_TEXT }).transform((s) => new Date(s));

/** Any JSON value, but present. */
const payloadSchema = z.unknown().refine((v) => v !== undefined, { error: "any JSON value (`null` for none)" }).meta({ description: "The job's payload: any JSON value." });

const JOB_TEXT = "an object { type, payload, queue?, priority?, runAt?, delayMs?, maxAttempts?, idempotencyKey?, timeoutMs?, group? }";

/** One job to enqueue: `enqueue`'s arguments, flattened. */
const enqueueFields = z.strictObject(
  {
    type: nameSchema.meta({ description: "The job type, e.g. `send_email`." }),
    payload: payloadSchema,
    queue: enqueueOptionsShape.queue.meta({ description: 'The named queue. Default `"default"`.' }),
    priority: enqueueOptionsShape.priority.meta({ description: "Higher runs first. Default 0." }),
    runAt: isoDate.optional().meta({ description: "Run no earlier than this time (not with `delayMs`)." }),
    delayMs: enqueueOptionsShape.delayMs.meta({ description: "Run no earlier than this many ms from now (not with `runAt`)." }),
    maxAttempts: enqueueOptionsShape.maxAttempts.meta({ description: "Attempts before the job is dead. Default 3." }),
    idempotencyKey: idempotencyKeySchema.optional().meta({
      description: "The same (type, key) again returns the first job with `created: false`. Also taken from the `Idempotency-Key` header.",
    }),
    timeoutMs: enqueueOptionsShape.timeoutMs.meta({ description: "Abort the handler after this long." }),
    group: enqueueOptionsShape.group.meta({
      description: "The job's group (a tenant, an account): claims are fair across groups, and a queue's group limit caps each group's running jobs.",
    }),
  },
  { error: JOB_TEXT },
);

const oneOfDelay = <T extends { delayMs?: unknown; runAt?: unknown }>(o: T) => o.delayMs === undefined || o.runAt === undefined;
const DELAY_TEXT = { error: "given only when `delayMs` is not (pass one of `delayMs` and `runAt`)", path: ["runAt"] };

export const enqueueBodySchema = named(enqueueFields.refine(oneOfDelay, DELAY_TEXT), "EnqueueRequest", "One job, as `queue.enqueue()` takes it.");
export type EnqueueBody = z.output<typeof enqueueBodySchema>;

/** The most jobs one batch request may carry. */
export const MAX_BATCH = 1000;

export const batchBodySchema = named(
  z.strictObject(
    {
      jobs: z
        .array(enqueueBodySchema, { error: `an array of 1 to ${MAX_BATCH} jobs` })
        .min(1, { error: `an array of 1 to ${MAX_BATCH} jobs` })
        .max(MAX_BATCH, { error: `an array of 1 to ${MAX_BATCH} jobs` }),
    },
    { error: "an object { jobs: [...] }" },
  ),
  "BatchRequest",
  "Many jobs in one statement, as `queue.enqueueMany()` takes them.",
);

const LIMIT_TEXT = "an integer from 1 to 1000";
/** A page size in a query string. */
const limitParam = z
  .string({ error: LIMIT_TEXT })
  .regex(/^\d{1,4}$/, { error: LIMIT_TEXT })
  .transform(Number)
  .pipe(intSchema(1, 1000))
  .optional()
  .meta({ description: "Jobs per page, 1 to 1000. Default 100." });

const STATUSES_TEXT = `a status (${JOB_STATUSES.join(", ")}) or several, separated by commas`;
const statusParam = z
  .string({ error: STATUSES_TEXT })
  .transform((s, ctx) => {
    const list = s.split(",").map((x) => x.trim());
    for (const status of list) {
      if (!statusSchema.safeParse(status).success) {
        ctx.addIssue({ code: "custom", message: STATUSES_TEXT });
        return z.NEVER;
      }
    }
    return list as Array<z.output<typeof statusSchema>>;
  })
  .optional()
  .meta({ description: `Only jobs in these states: ${JOB_STATUSES.join(", ")}; several separated by commas.` });

const cursorParam = z.string({ error: "the `nextCursor` of the previous page" }).optional().meta({ description: "The `nextCursor` of the previous page." });

export const listQuerySchema = z.strictObject(
  {
    status: statusParam,
    queue: nameSchema.optional().meta({ description: "Only jobs of this queue." }),
    type: nameSchema.optional().meta({ description: "Only jobs of this type." }),
    group: groupKeySchema.optional().meta({ description: "Only jobs of this group." }),
    cursor: cursorParam,
    limit: limitParam,
  },
  { error: "query parameters status, queue, type, group, cursor, limit" },
);

export const deadListQuerySchema = z.strictObject(
  {
    queue: nameSchema.optional().meta({ description: "Only dead jobs of this queue." }),
    type: nameSchema.optional().meta({ description: "Only dead jobs of this type." }),
    cursor: cursorParam,
    limit: limitParam,
  },
  { error: "query parameters queue, type, cursor, limit" },
);

/** No query parameters at all. */
export const noQuerySchema = z.strictObject({}, { error: "no query parameters" });

const FILTER_TEXT = "a filter naming at least one of `queue`, `type`, `finishedAfter`, `finishedBefore`, `lastError`, or `{ \"all\": true }`";
export const deadFilterBodySchema = named(
  z
    .strictObject(
      {
        queue: nameSchema.optional().meta({ description: "Only dead jobs of this queue." }),
        type: nameSchema.optional().meta({ description: "Only dead jobs of this type." }),
        finishedAfter: isoDate.optional().meta({ description: "Only jobs that died at or after this time." }),
        finishedBefore: isoDate.optional().meta({ description: "Only jobs that died before this time." }),
        lastError: z
          .string({ error: "a string (a job's last error message)" })
          .max(100_000, { error: "a string of at most 100000 characters" })
          .optional()
          .meta({ description: "Only jobs whose last error is exactly this message (a group of `GET /dead/groups`)." }),
        all: z.boolean({ error: "a boolean" }).optional().meta({ description: "Every dead job (required when nothing else is given)." }),
      },
      { error: FILTER_TEXT },
    )
    .refine((f) => f.all === true || Object.keys(f).some((k) => k !== "all"), { error: FILTER_TEXT }),
  "DeadFilter",
  "Which dead jobs to retry or purge. An empty filter is refused.",
);

/** Path parameters. */
export const jobIdParam = z.string().meta({ description: "The job's id (a UUID)." });
export const queueNameParam = nameSchema.meta({ description: "The queue's name." });

// Responses: described, not validated.

const dateTime = z.iso.datetime({ offset: true });
const statusEnum = z.enum(JOB_STATUSES);

export const jobResponse = named(
  z.object({
    id: z.uuid(),
    queue: z.string(),
    type: z.string(),
    payload: z.unknown(),
    status: statusEnum,
    priority: z.int(),
    runAt: dateTime,
    attempts: z.int(),
    maxAttempts: z.int(),
    timeoutMs: z.int().nullable(),
    idempotencyKey: z.string().nullable(),
    lockedBy: z.string().nullable(),
    lockedUntil: dateTime.nullable(),
    lastError: z.string().nullable(),
    errors: z.array(z.object({ attempt: z.int(), at: dateTime, message: z.string(), stack: z.string().optional(), unstarted: z.literal(true).optional() })),
    result: z.unknown(),
    createdAt: dateTime,
    updatedAt: dateTime,
    startedAt: dateTime.nullable(),
    finishedAt: dateTime.nullable(),
    progress: z.unknown(),
    cancelRequestedAt: dateTime.nullable(),
    group: z.string().nullable(),
  }),
  "Job",
  "A job as stored.",
);

export const enqueueResponse = named(z.object({ job: jobResponse, created: z.boolean() }), "EnqueueResult", "The job, and whether this request created it.");
export const batchResponse = named(z.object({ results: z.array(enqueueResponse) }), "BatchResult", "One result per job, in request order.");
export const jobPageResponse = named(
  z.object({ jobs: z.array(jobResponse), nextCursor: z.string().nullable() }),
  "JobPage",
  "A page of jobs, newest first; pass `nextCursor` as `cursor` for the next.",
);

const counts = z.object(Object.fromEntries(JOB_STATUSES.map((s) => [s, z.int()])) as Record<(typeof JOB_STATUSES)[number], z.ZodInt>);
const recent = z.object({ succeeded: z.int(), failed: z.int(), dead: z.int(), canceled: z.int() });
export const statsResponse = named(
  z.object({
    queues: z.array(
      z.object({ queue: z.string(), counts, total: z.int(), paused: z.boolean(), lagMs: z.number().nullable(), lastMinute: recent, lastHour: recent }),
    ),
    totals: counts,
    lagMs: z.number().nullable(),
    lastMinute: recent,
    lastHour: recent,
  }),
  "Stats",
  "Counts by queue and status, lag, and recent outcomes (only the queues the key may see).",
);

export const queueStateResponse = named(
  z.object({ queue: z.string(), paused: z.boolean(), pausedAt: dateTime.nullable() }),
  "QueueState",
  "A queue's pause state.",
);
const limitsShape = {
  concurrency: z.int().nullable(),
  rate: z.object({ limit: z.int(), intervalMs: z.int() }).nullable(),
  group: z.object({ concurrency: z.int() }).nullable(),
};
export const queuesResponse = named(
  z.object({
    queues: z.array(
      z.object({
        queue: z.string(),
        paused: z.boolean(),
        pausedAt: dateTime.nullable(),
        counts,
        total: z.int(),
        lagMs: z.number().nullable(),
        limits: z.object(limitsShape).nullable(),
      }),
    ),
  }),
  "Queues",
  "Every queue that holds jobs, is paused or has limits.",
);
export const queueLimitsResponse = named(z.object({ queue: z.string(), ...limitsShape }), "QueueLimits", "A queue's cluster-wide limits; null: no limit of that kind.");
/** The body of `POST /queues/:name/limits`: the fields of `queue.setLimits()`. */
export const limitsBodySchema = named(
  z.strictObject(
    {
      concurrency: limitsSchema.unwrap().shape.concurrency,
      rate: limitsSchema.unwrap().shape.rate,
      group: limitsSchema.unwrap().shape.group,
    },
    { error: "an object `{ concurrency, rate, group }`" },
  ),
  "LimitsBody",
  "A field left out keeps its limit; null removes it.",
);
export const schedulesResponse = named(
  z.object({
    schedules: z.array(
      z.object({
        name: z.string(),
        cron: z.string(),
        timeZone: z.string(),
        type: z.string(),
        payload: z.unknown(),
        queue: z.string(),
        priority: z.int(),
        maxAttempts: z.int(),
        timeoutMs: z.int().nullable(),
        backfillMs: z.int(),
        group: z.string().nullable(),
        lastTick: dateTime.nullable(),
        nextRunAt: dateTime.nullable(),
        createdAt: dateTime,
        updatedAt: dateTime,
      }),
    ),
  }),
  "Schedules",
  "Recurring schedules of the queues the key may see.",
);
export const retriedResponse = named(z.object({ retried: z.int() }), "Retried", "How many dead jobs were put back.");
export const purgedResponse = named(z.object({ purged: z.int() }), "Purged", "How many dead jobs were deleted.");
export const healthResponse = named(z.object({ status: z.literal("ok") }), "Health", "The database answers and its schema is current.");
export const errorResponseSchema = named(
  z.object({ error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }) }),
  "Error",
  "Every error response has this shape. `field` names the body key, query parameter or header at fault.",
);
