import type pg from "pg";
import { z } from "zod";
import { deadJobFilterSchema, eachDeadBatch, type DeadJobFilter } from "./dead-letter.js";
import { openPool, run, type Executor, type PoolHandle, type Statement } from "./db.js";
import { ConfigError, InvalidStateError, JobNotFoundError, ValidationError } from "./errors.js";
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_QUEUE,
  enqueueOptionsSchema,
  enqueueOptionsWith,
  JOB_STATUSES,
  jobIdSchema,
  listJobsOptionsSchema,
  nameSchema,
  queueOptionsSchema,
  type EnqueueOptions,
  type ListJobsOptions,
} from "./options.js";
import { serializeJson } from "./payload.js";
import { prune, type PruneResult } from "./maintenance/pruner.js";
import { pruneAges, pruneOptionsSchema, type PruneOptions } from "./maintenance/retention.js";
import { cronSchema, scheduleFromRow, scheduleOptionsSchema, type Schedule, type ScheduleOptions } from "./schedule.js";
import { jobsChannel, schemaName } from "./schema-name.js";
import { scheduleDelete } from "./sql/scheduleDelete.js";
import { scheduleList } from "./sql/scheduleList.js";
import { scheduleUpsert } from "./sql/scheduleUpsert.js";
import { CANCELABLE, jobCancel } from "./sql/jobCancel.js";
import { jobDeadPurge } from "./sql/jobDeadPurge.js";
import { jobDeadRetry } from "./sql/jobDeadRetry.js";
import { jobGet } from "./sql/jobGet.js";
import { jobInsert } from "./sql/jobInsert.js";
import { jobInsertMany } from "./sql/jobInsertMany.js";
import { jobList, jobListDead } from "./sql/jobList.js";
import { jobPrune } from "./sql/jobPrune.js";
import { jobFromInsert, jobFromRow, type NewJob } from "./sql/jobRow.js";
import { jobRetry, RETRYABLE } from "./sql/jobRetry.js";
import { queueStats } from "./sql/queueStats.js";
import { queuePause, queueResume, queuesPaused } from "./sql/queuePause.js";
import { queueWake } from "./sql/queueWake.js";
import { WakeDebounce } from "./wake-debounce.js";
import type {
  EnqueueResult,
  Job,
  JobPage,
  JobSchemas,
  JobStatus,
  JobType,
  PayloadOf,
  QueueState,
  QueueStats,
  QueueStatsEntry,
  RecentCounts,
  StatusCounts,
} from "./types.js";
import { loadTracing, startProducerSpan, tracingUnknown } from "./tracing.js";
import { uuidv7 } from "./uuid.js";
import { assertSchemaVersion } from "./schema-version.js";
import { TypedEmitter, type QueueEvents } from "./events.js";
import { parse, schemaMismatch } from "./validate.js";

export type { EnqueueOptions, ListJobsOptions };

/** How often one Queue's enqueues may carry a NOTIFY (see `WakeDebounce`). */
const WAKE_WINDOW_MS = 10;

/** Options for `new Queue()`. */
export interface QueueOptions<S extends JobSchemas = JobSchemas> {
  /** A PostgreSQL connection string. @default process.env.DATABASE_URL */
  connectionString?: string;
  /** An existing `pg.Pool` to use instead; `close()` leaves it open. */
  pool?: pg.Pool;
  /** The schema djps was migrated into. @default "djps" */
  schema?: string;
  /**
   * Zod schemas by job type. Payloads of these types are type-checked at
   * compile time and validated on enqueue; other types take any JSON.
   * @example new Queue({ schemas: { send_email: z.object({ to: z.email() }) } })
   */
  schemas?: S;
  /** Largest accepted payload, in bytes of JSON. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
  /** Connections in the pool djps creates (ignored with `pool`). @default 10 */
  poolSize?: number;
}

/** Per-call options that are not about the job: where to run the statement. */
export interface CallOptions {
  /**
   * Run the statement on this client, inside the caller's transaction: the job
   * exists (and workers are woken) only when that transaction commits.
   */
  client?: Executor;
}

/** One item of `enqueueMany`. */
export interface EnqueueItem<S extends JobSchemas = JobSchemas, T extends JobType<S> = JobType<S>> {
  type: T;
  payload: PayloadOf<S, T>;
  options?: EnqueueOptions;
}

const executorSchema = z.custom<Executor>((v) => v !== null && typeof v === "object" && typeof (v as any).query === "function", {
  error: "a client with a query(text, values) method",
});
const callOptionsShape = { client: executorSchema.optional() };
const enqueueCallSchema = enqueueOptionsWith(callOptionsShape);
const callOptionsSchema = z.strictObject(callOptionsShape, { error: "an options object" });
const itemSchema = z.strictObject(
  // A custom check rather than z.unknown(): a missing payload then gets a message in the usual shape.
  { type: nameSchema, payload: z.custom<unknown>((v) => v !== undefined, { error: "JSON-serialisable" }), options: enqueueOptionsSchema.optional() },
  { error: "an object with `type`, `payload` and optional `options`" },
);
const itemsSchema = z.array(itemSchema, { error: "an array of { type, payload, options }" }).max(100_000, {
  error: "an array of at most 100000 items",
});

/** A row ready to insert: validated, serialised, with defaults applied. */
/**
 * The producer side: enqueue jobs and inspect or steer them.
 *
 * @example
 * const queue = new Queue();                       // DATABASE_URL
 * const { job, created } = await queue.enqueue("send_email", { to: "a@b.com" }, { idempotencyKey: "welcome-42" });
 */
export class Queue<S extends JobSchemas = {}> extends TypedEmitter<QueueEvents> {
  readonly #handle: PoolHandle;
  readonly #schema: string;
  readonly #channel: string;
  readonly #schemas: ReadonlyMap<string, z.ZodType>;
  readonly #maxPayloadBytes: number;
  readonly #sql: {
    insert: Statement;
    insertMany: Statement;
    get: Statement;
    list: Statement;
    listDead: Statement;
    cancel: Statement;
    retry: Statement;
    stats: Statement;
    pause: Statement;
    resume: Statement;
    paused: Statement;
    prune: Statement;
    deadRetry: Statement;
    deadPurge: Statement;
    scheduleUpsert: Statement;
    scheduleList: Statement;
    scheduleDelete: Statement;
  };
  readonly #wake: WakeDebounce;
  /** Calls running now: close() lets them settle before it ends the pool. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed: Promise<void> | undefined;
  #schemaChecked: Promise<void> | undefined;

  constructor(options: QueueOptions<S> = {}) {
    super();
    const opts = parse(queueOptionsSchema, options, "options");
    this.#schema = schemaName(opts.schema);
    this.#channel = jobsChannel(this.#schema);
    // A Map, not an object: a job type named `constructor` must not find Object.prototype's.
    this.#schemas = new Map(Object.entries(opts.schemas ?? {}));
    this.#maxPayloadBytes = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    const s = this.#schema;
    this.#sql = {
      insert: jobInsert(s),
      insertMany: jobInsertMany(s),
      get: jobGet(s),
      list: jobList(s),
      listDead: jobListDead(s),
      cancel: jobCancel(s),
      retry: jobRetry(s),
      stats: queueStats(s),
      pause: queuePause(s),
      resume: queueResume(s),
      paused: queuesPaused(s),
      prune: jobPrune(s),
      deadRetry: jobDeadRetry(s),
      deadPurge: jobDeadPurge(s),
      scheduleUpsert: scheduleUpsert(s),
      scheduleList: scheduleList(s),
      scheduleDelete: scheduleDelete(s),
    };
    this.#handle = openPool(opts, opts.poolSize ?? 10, "djps queue");
    const wake = queueWake(s);
    this.#wake = new WakeDebounce(WAKE_WINDOW_MS, async (queues) => {
      await run(this.#handle.pool, wake, [this.#channel, queues], true);
    });
  }

  /** The schema this queue works in. */
  get schema(): string {
    return this.#schema;
  }

  /** The pool this queue runs on (its own, or the one it was given). */
  get pool(): pg.Pool {
    return this.#handle.pool;
  }

  /**
   * Adds a job. With an `idempotencyKey`, a second enqueue of the same
   * (type, key) returns the first job and `created: false`, also under races.
   */
  async enqueue<T extends JobType<S>>(
    type: T,
    payload: PayloadOf<S, T>,
    options: EnqueueOptions & CallOptions = {},
  ): Promise<EnqueueResult<PayloadOf<S, T>>> {
    return this.#track(() => this.#enqueue(type, payload, options));
  }

  async #enqueue<T extends JobType<S>>(type: T, payload: PayloadOf<S, T>, options: EnqueueOptions & CallOptions): Promise<EnqueueResult<PayloadOf<S, T>>> {
    const { client, ...jobOptions } = parse(enqueueCallSchema, options, "options");
    const job = this.#prepare(type, payload, jobOptions, "");
    if (tracingUnknown()) await loadTracing();
    const span = startProducerSpan(job.queue, job.type, 1);
    const channel = this.#wakeChannel(client);
    let rows: any[];
    try {
      rows = await this.#run(client, this.#sql.insert, [
        job.queue,
        job.type,
        job.payload,
        job.priority,
        job.runAt,
        job.delayMs,
        job.maxAttempts,
        job.timeoutMs,
        job.key,
        channel,
        span?.traceContext ?? null,
      ]);
    } catch (error) {
      span?.end([], error);
      throw error;
    }
    const row = rows[0];
    span?.end([row.id]);
    if (channel === null) this.#trailWake(rows);
    const result = { job: jobFromInsert(job, row) as Job<PayloadOf<S, T>>, created: row.created as boolean };
    this.emit("job:enqueued", result);
    return result;
  }

  /**
   * Adds many jobs in one statement. Each item's idempotency key is honoured
   * against existing rows and within the batch (a repeated key returns the
   * first item's job with `created: false`). Results come in item order.
   */
  async enqueueMany(items: ReadonlyArray<EnqueueItem<S>>, options: CallOptions = {}): Promise<EnqueueResult[]> {
    return this.#track(() => this.#enqueueMany(items, options));
  }

  async #enqueueMany(items: ReadonlyArray<EnqueueItem<S>>, options: CallOptions): Promise<EnqueueResult[]> {
    const { client } = parse(callOptionsSchema, options, "options");
    const list = parse(itemsSchema, items, "items");
    if (list.length === 0) return [];
    const prepared = list.map((item, i) => this.#prepare(item.type, item.payload, item.options ?? {}, `items.${i}.`));
    // The first item with a given (type, key) is inserted; later ones share its result.
    const firstIndex = new Map<string, number>();
    const sources: number[] = [];
    const ids: string[] = [];
    const inserted: NewJob[] = [];
    prepared.forEach((job, i) => {
      const dedupeKey = job.key === null ? null : `${job.type}\u0000${job.key}`;
      const seen = dedupeKey === null ? undefined : firstIndex.get(dedupeKey);
      if (seen !== undefined) {
        sources.push(seen);
        return;
      }
      if (dedupeKey !== null) firstIndex.set(dedupeKey, i);
      sources.push(i);
      ids.push(uuidv7());
      inserted.push(job);
    });
    // Every job of a batch gets the same now() as run_at, so the claim order
    // (priority, run_at, id) falls to the id: it must follow item order. UUIDv7s
    // made within one millisecond are in random order; sorted, they are in
    // creation order and still carry their own timestamps.
    ids.sort();
    if (tracingUnknown()) await loadTracing();
    const queues = new Set(inserted.map((j) => j.queue));
    const types = new Set(inserted.map((j) => j.type));
    const span = startProducerSpan(queues.size === 1 ? inserted[0]!.queue : "(several)", types.size === 1 ? inserted[0]!.type : undefined, inserted.length);
    const channel = this.#wakeChannel(client);
    const rows = await this.#run(client, this.#sql.insertMany, [
      ids,
      inserted.map((j) => j.queue),
      inserted.map((j) => j.type),
      inserted.map((j) => j.payload),
      inserted.map((j) => j.priority),
      inserted.map((j) => j.runAt),
      inserted.map((j) => j.delayMs),
      inserted.map((j) => j.maxAttempts),
      inserted.map((j) => j.timeoutMs),
      inserted.map((j) => j.key),
      channel,
      span?.traceContext ?? null,
    ]).catch((error) => {
      span?.end([], error);
      throw error;
    });
    span?.end(rows.length === 1 ? [rows[0].id] : []);
    if (channel === null) this.#trailWake(rows);
    const byId = new Map<string, any>();
    const byKey = new Map<string, any>();
    for (const row of rows) {
      if (row.created) byId.set(row.id, row);
      else byKey.set(`${row.type}\u0000${row.idempotency_key}`, row);
    }
    const results: EnqueueResult[] = [];
    let insertIndex = 0;
    for (let i = 0; i < prepared.length; i++) {
      if (sources[i] !== i) {
        const first = results[sources[i]!]!;
        results.push({ job: first.job, created: false });
        continue;
      }
      const job = prepared[i]!;
      const row = byId.get(ids[insertIndex++]!) ?? byKey.get(`${job.type}\u0000${job.key}`);
      results.push({ job: jobFromInsert(job, row), created: row.created });
    }
    if (this.listens("job:enqueued")) for (const result of results) this.emit("job:enqueued", result);
    return results;
  }

  /** The job with this id, or `null`. */
  async getJob(id: string, options: CallOptions = {}): Promise<Job | null> {
    const jobId = parse(jobIdSchema, id, "id");
    const { client } = parse(callOptionsSchema, options, "options");
    return this.#track(async () => {
      const rows = await this.#run(client, this.#sql.get, [jobId]);
      return rows[0] ? jobFromRow(rows[0]) : null;
    });
  }

  /**
   * Jobs newest first, filtered by status, queue and type, a page at a time.
   * @example
   * let page = await queue.listJobs({ status: "dead", limit: 50 });
   * while (page.nextCursor) page = await queue.listJobs({ status: "dead", limit: 50, cursor: page.nextCursor });
   */
  async listJobs(options: ListJobsOptions = {}): Promise<JobPage> {
    const opts = parse(listJobsOptionsSchema, options, "options");
    const cursor = opts.cursor === undefined ? null : parse(jobIdSchema, opts.cursor, "options.cursor");
    const statuses = opts.status === undefined ? null : Array.isArray(opts.status) ? opts.status : [opts.status];
    const limit = opts.limit ?? 100;
    const onlyDead = statuses !== null && statuses.length > 0 && statuses.every((s) => s === "dead");
    const sql = onlyDead ? this.#sql.listDead : this.#sql.list;
    return this.#track(async () => {
      const rows = await this.#run(undefined, sql, [statuses, opts.queue ?? null, opts.type ?? null, cursor, limit + 1]);
      const jobs = rows.slice(0, limit).map(jobFromRow);
      return { jobs, nextCursor: rows.length > limit ? jobs[jobs.length - 1]!.id : null };
    });
  }

  /** Cancels a queued or failed job. Throws `InvalidStateError` for any other state. */
  async cancel(id: string, options: CallOptions = {}): Promise<Job> {
    return this.#transition(id, options, this.#sql.cancel, [], "cancel", CANCELABLE);
  }

  /** Puts a failed, dead or canceled job back to `queued`, runnable now. */
  async retry(id: string, options: CallOptions = {}): Promise<Job> {
    return this.#transition(id, options, this.#sql.retry, [this.#channel], "retry", RETRYABLE);
  }

  /**
   * Puts dead jobs matching `filter` back to `queued`, runnable now, and
   * wakes idle workers. Each job keeps its attempts and error history and gets
   * one more try. Works in batches of 1,000 (a short transaction each); jobs
   * that die again while it runs may be retried again. An empty filter is
   * refused: pass `{ all: true }` to retry every dead job.
   * @example await queue.retryDead({ type: "send_email", finishedAfter: new Date(Date.now() - 3_600_000) });
   */
  async retryDead(filter: DeadJobFilter): Promise<{ retried: number }> {
    const f = parse(deadJobFilterSchema, filter, "filter");
    return this.#track(async () => ({
      retried: await eachDeadBatch((sql, values) => this.#run(undefined, sql, values), this.#sql.deadRetry, f, [this.#channel]),
    }));
  }

  /**
   * Deletes dead jobs matching `filter`, in batches of 1,000. An empty filter
   * is refused: pass `{ all: true }` to empty the dead-letter state.
   * @example await queue.purgeDead({ queue: "imports", finishedBefore: new Date("2026-01-01") });
   */
  async purgeDead(filter: DeadJobFilter): Promise<{ purged: number }> {
    const f = parse(deadJobFilterSchema, filter, "filter");
    return this.#track(async () => ({ purged: await eachDeadBatch((sql, values) => this.#run(undefined, sql, values), this.#sql.deadPurge, f, []) }));
  }

  /**
   * Per queue: job counts by status, whether it is paused, its lag (the age of
   * the oldest job that could be claimed now) and the jobs that succeeded,
   * failed, died or were canceled in the last minute and hour; then the same
   * over all queues. One statement that reads the whole table: with retention
   * on, the table holds days of jobs, so call it every few seconds at most
   * (`Metrics` caches it).
   */
  async stats(): Promise<QueueStats> {
    return this.#track(() => this.#stats());
  }

  async #stats(): Promise<QueueStats> {
    const [rows, paused] = await Promise.all([this.#run(undefined, this.#sql.stats, []), this.#pausedQueues()]);
    const zero = (): StatusCounts => Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts;
    const none = (): RecentCounts => ({ succeeded: 0, failed: 0, dead: 0, canceled: 0 });
    const pausedNames = new Set(paused.map((p) => p.queue));
    const queues = new Map<string, QueueStatsEntry>();
    const entryOf = (queue: string) => {
      let entry = queues.get(queue);
      if (!entry) {
        entry = { queue, counts: zero(), total: 0, paused: pausedNames.has(queue), lagMs: null, lastMinute: none(), lastHour: none() };
        queues.set(queue, entry);
      }
      return entry;
    };
    const all = { totals: zero(), lagMs: null as number | null, lastMinute: none(), lastHour: none() };
    for (const row of rows) {
      const status = row.status as JobStatus;
      const entry = entryOf(row.queue);
      entry.counts[status] += row.count;
      entry.total += row.count;
      all.totals[status] += row.count;
      if (row.lag_ms !== null) {
        const lag = Math.max(0, Math.round(row.lag_ms));
        entry.lagMs = Math.max(entry.lagMs ?? 0, lag);
        all.lagMs = Math.max(all.lagMs ?? 0, lag);
      }
      if (status in entry.lastMinute) {
        const recent = status as keyof RecentCounts;
        entry.lastMinute[recent] += row.last_minute;
        entry.lastHour[recent] += row.last_hour;
        all.lastMinute[recent] += row.last_minute;
        all.lastHour[recent] += row.last_hour;
      }
    }
    // A paused queue shows even when it holds no jobs.
    for (const name of pausedNames) entryOf(name);
    const list = [...queues.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
    return { queues: list, ...all };
  }

  /**
   * Pauses a queue for every worker, persistently: it keeps accepting jobs,
   * but no worker claims from it until `resume`. Jobs already running finish,
   * and jobs a worker already holds in its buffer still run. Pausing a paused
   * queue keeps its first `pausedAt`.
   * @example await queue.pause("emails");
   */
  async pause(name: string): Promise<QueueState> {
    const queueName = parse(nameSchema, name, "name");
    return this.#track(async () => {
      const rows = await this.#run(undefined, this.#sql.pause, [queueName]);
      return { queue: queueName, paused: true, pausedAt: rows[0].paused_at };
    });
  }

  /** Resumes a paused queue and wakes its idle workers at once. Resuming a running queue does nothing. */
  async resume(name: string): Promise<QueueState> {
    const queueName = parse(nameSchema, name, "name");
    return this.#track(async () => {
      await this.#run(undefined, this.#sql.resume, [queueName, this.#channel]);
      return { queue: queueName, paused: false, pausedAt: null };
    });
  }

  /** The queues paused now, by name. */
  async pausedQueues(): Promise<QueueState[]> {
    return this.#track(() => this.#pausedQueues());
  }

  async #pausedQueues(): Promise<QueueState[]> {
    const rows = await this.#run(undefined, this.#sql.paused, []);
    return rows.map((r) => ({ queue: r.name, paused: true, pausedAt: r.paused_at }));
  }

  /**
   * Deletes finished jobs (succeeded, dead, canceled) that finished longer ago
   * than `olderThanMs`, or than each status's retention default (succeeded 3
   * days, dead and canceled 14 days), in batches of 1,000 rows, each its own
   * short transaction. Workers do this on their own (see the Worker's
   * `retention` option); this is for operators and scripts. A deleted job's
   * idempotency key is free again.
   * @example await queue.prune({ olderThanMs: 7 * 24 * 3_600_000, statuses: ["dead"] });
   */
  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    const opts = parse(pruneOptionsSchema, options, "options");
    return this.#track(() => prune((sql, values) => this.#run(undefined, sql, values), this.#sql.prune, pruneAges(opts)));
  }

  /**
   * Creates or replaces the recurring schedule `name`: at every tick of `cron`
   * (read in `options.timeZone`, default UTC), one `type` job with `payload`.
   * Workers enqueue the ticks; each tick makes exactly one job however many
   * workers run. Ticks missed while every worker was down are skipped unless
   * `backfillMs` covers them. Replacing a schedule never enqueues ticks from
   * before the change.
   * @example await queue.schedule("nightly-report", "0 3 * * *", "build_report", { scope: "all" }, { timeZone: "Europe/Berlin" });
   */
  async schedule<T extends JobType<S>>(name: string, cron: string, type: T, payload?: PayloadOf<S, T>, options: ScheduleOptions = {}): Promise<Schedule> {
    const scheduleName = parse(nameSchema, name, "name");
    const expression = parse(cronSchema, cron, "cron").trim();
    const opts = parse(scheduleOptionsSchema, options, "options");
    const job = this.#prepare(type, payload ?? null, {}, "");
    return this.#track(async () => {
      const rows = await this.#run(undefined, this.#sql.scheduleUpsert, [
        scheduleName,
        expression,
        opts.timeZone ?? "UTC",
        job.type,
        job.payload,
        opts.queue ?? DEFAULT_QUEUE,
        opts.priority ?? 0,
        opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        opts.timeoutMs ?? null,
        opts.backfillMs ?? 0,
      ]);
      return scheduleFromRow(rows[0]);
    });
  }

  /** Removes a schedule; resolves to whether it existed. Jobs it already enqueued stay. */
  async unschedule(name: string): Promise<boolean> {
    const scheduleName = parse(nameSchema, name, "name");
    return this.#track(async () => (await this.#run(undefined, this.#sql.scheduleDelete, [scheduleName])).length > 0);
  }

  /** One schedule with its next tick, or `null`. */
  async getSchedule(name: string): Promise<Schedule | null> {
    const scheduleName = parse(nameSchema, name, "name");
    return this.#track(async () => {
      const [row] = await this.#run(undefined, this.#sql.scheduleList, [scheduleName]);
      return row ? scheduleFromRow(row) : null;
    });
  }

  /** Every schedule, by name, with its next tick. */
  async listSchedules(): Promise<Schedule[]> {
    return this.#track(async () => {
      const rows = await this.#run(undefined, this.#sql.scheduleList, [null]);
      const now = new Date();
      return rows.map((row) => scheduleFromRow(row, now));
    });
  }

  /**
   * Lets the calls already in flight finish (each resolves or rejects as it
   * would have), then ends the pool if this queue created it. Calls made after
   * `close()` reject with a `ConfigError`. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closed ??= this.#drain();
    return this.#closed;
  }

  async #drain(): Promise<void> {
    // pg's end() leaves callers still waiting for a connection pending forever,
    // so every call in flight settles first. None can join after this point.
    await Promise.allSettled(this.#inFlight);
    // A wake-up still owed to workers goes out before the pool ends.
    await this.#wake.flush();
    if (this.#handle.owned) await this.#handle.pool.end();
  }

  async #transition(
    id: string,
    options: CallOptions,
    sql: Statement,
    extra: unknown[],
    operation: string,
    allowed: readonly string[],
  ): Promise<Job> {
    const jobId = parse(jobIdSchema, id, "id");
    const { client } = parse(callOptionsSchema, options, "options");
    return this.#track(async () => {
      const rows = await this.#run(client, sql, [jobId, ...extra]);
      if (rows[0]) return jobFromRow(rows[0]);
      const current = await this.#run(client, this.#sql.get, [jobId]);
      if (!current[0]) throw new JobNotFoundError(jobId);
      throw new InvalidStateError(jobId, current[0].status, operation, allowed);
    });
  }

  #prepare(type: unknown, payload: unknown, options: EnqueueOptions, prefix: string): NewJob {
    const jobType = parse(nameSchema, type, `${prefix}type`);
    const opts = options;
    const schema = this.#schemas.get(jobType);
    if (schema) {
      const result = schema.safeParse(payload);
      if (!result.success) throw schemaMismatch(jobType, `${prefix}payload`, payload, result.error.issues[0]!);
    }
    return {
      queue: opts.queue ?? DEFAULT_QUEUE,
      type: jobType,
      payload: serializeJson(payload, `${prefix}payload`, this.#maxPayloadBytes),
      priority: opts.priority ?? 0,
      runAt: opts.runAt ?? null,
      delayMs: opts.delayMs ?? null,
      maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      timeoutMs: opts.timeoutMs ?? null,
      key: opts.idempotencyKey ?? null,
    };
  }

  /**
   * The channel an enqueue statement should NOTIFY on, or null when the wake
   * is left to the debounce's trailing NOTIFY. Inside a caller's transaction
   * the statement always notifies: only its commit may wake workers, and we
   * cannot know when that comes.
   */
  #wakeChannel(client: Executor | undefined): string | null {
    return client || this.#wake.lead() ? this.#channel : null;
  }

  /** Queues given runnable jobs by a statement that did not notify. */
  #trailWake(rows: any[]): void {
    const queues = rows.filter((r) => r.created && r.run_at <= r.created_at).map((r) => r.queue as string);
    if (queues.length > 0) this.#wake.trail(queues);
  }

  async #run(client: Executor | undefined, sql: Statement, values: unknown[]): Promise<any[]> {
    if (client) return run(client, sql, values, false);
    await this.#schemaReady();
    return run(this.#handle.pool, sql, values, true);
  }

  /**
   * The first call on the Queue's own pool checks the schema version once
   * (see schema-version.ts); a failure is not kept, so a call after
   * `npx djps migrate` succeeds. Calls inside the caller's transaction
   * (`{ client }`) skip it: they must not wait for a pool connection the
   * transaction may itself be holding, nor risk an error that aborts it.
   */
  #schemaReady(): Promise<void> {
    this.#schemaChecked ??= assertSchemaVersion(this.#handle.pool, this.#schema).catch((error: unknown) => {
      this.#schemaChecked = undefined;
      throw error;
    });
    return this.#schemaChecked;
  }

  /**
   * Runs the work of a public call, counted in `#inFlight` until it settles so
   * that close() can wait for it; once close() began, refuses it instead.
   */
  #track<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ConfigError("This Queue is closed"));
    const call = work();
    this.#inFlight.add(call);
    const forget = () => void this.#inFlight.delete(call);
    call.then(forget, forget);
    return call;
  }
}
