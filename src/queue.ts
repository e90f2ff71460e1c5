import type pg from "pg";
import { deadJobFilterSchema, eachDeadBatch, type DeadJobFilter } from "./dead-letter.js";
import { openPool, runner, sendsBinary, type Executor, type PoolHandle } from "./db.js";
import { CallTracker } from "./call-tracker.js";
import { insertJob, insertJobs, prepareJob, type EnqueueTarget, type PayloadRules } from "./enqueue.js";
import { ConfigError, InvalidStateError, JobNotFoundError } from "./errors.js";
import { TypedEmitter, type QueueEvents } from "./events.js";
import { prune, type PruneResult } from "./maintenance/pruner.js";
import { pruneAges, pruneOptionsSchema, type PruneOptions } from "./maintenance/retention.js";
import {
  callOptionsSchema,
  enqueueCallSchema,
  enqueueItemsSchema,
  jobIdSchema,
  limitsSchema,
  listJobsOptionsSchema,
  nameSchema,
  QUEUE_DEFAULTS,
  queueOptionsSchema,
  type CallOptions,
  type EnqueueItem,
  type EnqueueOptions,
  type LimitsInput,
  type ListJobsOptions,
  type QueueOptions,
  type WaitOptions,
  waitOptionsSchema,
  type WorkersOptions,
  workersOptionsSchema,
} from "./options.js";
import { defineSchedule, scheduleFromRow, type Schedule, type ScheduleOptions } from "./schedule.js";
import { attachInternals } from "./queue-internals.js";
import { readLimits, writeLimits } from "./limits.js";
import { jobsChannel, schemaName } from "./schema-name.js";
import { checkedFirst } from "./schema-version.js";
import { jobCancel } from "./sql/jobCancel.js";
import { jobDeadPurge } from "./sql/jobDeadPurge.js";
import { jobDeadRetry } from "./sql/jobDeadRetry.js";
import { jobGet } from "./sql/jobGet.js";
import { jobList, jobListDead } from "./sql/jobList.js";
import { jobFromRow, type JobRow } from "./sql/jobRow.js";
import { jobRetry } from "./sql/jobRetry.js";
import type { Sql } from "./sql/query.js";
import { queuePause, queueResume, queuesPaused } from "./sql/queuePause.js";
import { queueStats } from "./sql/queueStats.js";
import { queueWake } from "./sql/queueWake.js";
import { scheduleDelete } from "./sql/scheduleDelete.js";
import { scheduleList } from "./sql/scheduleList.js";
import { scheduleUpsert } from "./sql/scheduleUpsert.js";
import { workerFromRow, workersList } from "./sql/workerPresence.js";
import { CANCELABLE, RETRYABLE } from "./states.js";
import { statsFromRows } from "./stats.js";
import type { EnqueueResult, Job, JobPage, JobSchemas, JobType, PayloadOf, QueueLimitsState, QueueState, QueueStats, WorkerInfo } from "./types.js";
import { parse } from "./validate.js";
import { JobWaits } from "./waits.js";
import { WakeDebounce } from "./wake-debounce.js";

export type { CallOptions, EnqueueItem, EnqueueOptions, LimitsInput, ListJobsOptions, QueueOptions, WaitOptions, WorkersOptions };

/** How often one Queue's enqueues may carry a NOTIFY (see `WakeDebounce`). */
const WAKE_WINDOW_MS = 10;

/**
 * The producer side: enqueue jobs and inspect or steer them.
 *
 * Every method validates its arguments first and throws a
 * {@link ValidationError} naming the field before anything is written. The
 * first call on the Queue's own pool checks the schema's version (and the
 * next call again if that check failed), rejecting with a
 * {@link ConfigError} that says what to do: run `npx djps migrate` when the
 * schema is missing or older than this djps needs, upgrade djps when a newer
 * schema holds a change older code cannot use. A failure of the database
 * rejects with a {@link DatabaseError}. After `close()`, calls reject with a
 * {@link ConfigError}.
 *
 * @example
 * const queue = new Queue();                       // DATABASE_URL
 * const { job, created } = await queue.enqueue("send_email", { to: "a@b.com" }, { idempotencyKey: "welcome-42" });
 */
export class Queue<S extends JobSchemas = {}> extends TypedEmitter<QueueEvents> {
  readonly #handle: PoolHandle;
  readonly #schema: string;
  readonly #channel: string;
  readonly #rules: PayloadRules;
  /** Statements on the Queue's own pool, after the schema version check. */
  readonly #pooled: Sql;
  readonly #wake: WakeDebounce;
  /** The pool's clients send Buffers as binary values (see `sendsBinary`). */
  readonly #binary: boolean;
  readonly #calls = new CallTracker();
  readonly #waits: JobWaits;
  #closed: Promise<void> | undefined;

  /**
   * Creates a Queue. It connects lazily: nothing touches the database until
   * the first call. Without `pool`, it opens its own pool of `poolSize`
   * connections (10 by default) to `connectionString` or `DATABASE_URL`.
   *
   * @param options Where to connect, the schema (default `"djps"`), zod
   *   schemas by job type and the largest payload (default 1 MiB).
   * @throws {@link ValidationError} for an invalid option, naming it (e.g. `options.schema`).
   * @throws {@link ConfigError} when neither `connectionString` nor `pool` is given and `DATABASE_URL` is unset.
   * @example
   * import { z } from "zod";
   * import { Queue } from "djps";
   *
   * const queue = new Queue({
   *   connectionString: process.env.DATABASE_URL,
   *   schemas: { send_email: z.object({ to: z.email() }) },
   * });
   * await queue.enqueue("send_email", { to: "a@b.com" }); // payload type-checked and validated
   * await queue.close();
   */
  constructor(options: QueueOptions<S> = {}) {
    super();
    const opts = parse(queueOptionsSchema, options, "options");
    this.#schema = schemaName(opts.schema);
    this.#channel = jobsChannel(this.#schema);
    this.#rules = {
      // A Map, not an object: a job type named `constructor` must not find Object.prototype's.
      schemas: new Map(Object.entries(opts.schemas ?? {})),
      maxPayloadBytes: opts.maxPayloadBytes ?? QUEUE_DEFAULTS.maxPayloadBytes,
    };
    this.#handle = openPool(opts, opts.poolSize ?? QUEUE_DEFAULTS.poolSize, "djps queue");
    this.#binary = sendsBinary(this.#handle.pool);
    const run = runner(this.#handle.pool, true);
    // Calls inside the caller's transaction (`{ client }`) skip the check:
    // they must not wait for a pool connection the transaction may itself be
    // holding, nor risk an error that aborts it.
    this.#pooled = { schema: this.#schema, run: checkedFirst(run, this.#handle.pool, this.#schema) };
    this.#waits = new JobWaits(this.#handle.pool, this.#pooled, this.#channel);
    // For `djps/testing` (see queue-internals.ts); not part of the Queue's API.
    attachInternals(this, { sql: this.#pooled, channel: this.#channel });
    // The trailing wake-up skips the version check: it only follows an enqueue, which made it.
    const wakeSql: Sql = { schema: this.#schema, run };
    this.#wake = new WakeDebounce(WAKE_WINDOW_MS, async (queues) => {
      await queueWake(wakeSql, { channel: this.#channel, queues });
    });
  }

  /** The schema this queue works in. */
  get schema(): string {
    return this.#schema;
  }

  /** The largest payload this queue accepts, in bytes of JSON (its `maxPayloadBytes`). */
  get maxPayloadBytes(): number {
    return this.#rules.maxPayloadBytes;
  }

  /** The pool this queue runs on (its own, or the one it was given). */
  get pool(): pg.Pool {
    return this.#handle.pool;
  }

  /**
   * Adds a job. With an `idempotencyKey`, a second enqueue of the same
   * (type, key) returns the first job and `created: false`, also under races,
   * for as long as the first job is stored. A job runnable now wakes the
   * idle workers of its queue with a notification.
   *
   * With `{ client }`, the job is inserted on that client, inside the
   * caller's transaction: it exists, and workers are woken, only when that
   * transaction commits; a rollback leaves no job.
   *
   * @param type The job type: which handler runs it.
   * @param payload Any JSON value; validated by the type's zod schema when
   *   one is registered, and at most `maxPayloadBytes` once serialised.
   * @param options Idempotency key, priority (default 0), `delayMs` or
   *   `runAt`, `maxAttempts` (default 3), named queue (default
   *   `"default"`), handler `timeoutMs`, and `client`.
   * @returns The job, and whether this call created it.
   * @throws {@link ValidationError} for a bad type name, option or payload
   *   (one that fails its schema, cannot be serialised to JSON, or is too large).
   * @throws {@link DatabaseError} when the insert fails.
   * @example
   * const { job, created } = await queue.enqueue(
   *   "send_email",
   *   { to: "a@b.com" },
   *   { idempotencyKey: "welcome-42", delayMs: 60_000, queue: "emails" },
   * );
   *
   * // In the application's own transaction (a pg.PoolClient):
   * await client.query("BEGIN");
   * await client.query("INSERT INTO users (email) VALUES ($1)", ["a@b.com"]);
   * await queue.enqueue("send_email", { to: "a@b.com" }, { client });
   * await client.query("COMMIT");
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
    const job = prepareJob(type, payload, jobOptions, this.#rules, "");
    const result = (await insertJob(this.#target(client), job)) as EnqueueResult<PayloadOf<S, T>>;
    this.emit("job:enqueued", result);
    return result;
  }

  /**
   * Adds many jobs in one statement. Each item's idempotency key is honoured
   * against existing rows and within the batch (a repeated key returns the
   * first item's job with `created: false`). Results come in item order. All
   * items are validated before anything is written, so one bad item inserts
   * none. At most 100,000 items per call; an empty array returns `[]`.
   *
   * @param items Up to 100,000 `{ type, payload, options }`.
   * @param options `client`: insert inside the caller's transaction, as for `enqueue`.
   * @throws {@link ValidationError} naming the bad item's field (e.g. `items.3.payload`).
   * @throws {@link DatabaseError} when the insert fails.
   * @example
   * const results = await queue.enqueueMany(
   *   users.map((u) => ({ type: "send_email", payload: { to: u.email }, options: { idempotencyKey: `digest-${u.id}` } })),
   * );
   * const created = results.filter((r) => r.created).length;
   */
  async enqueueMany(items: ReadonlyArray<EnqueueItem<S>>, options: CallOptions = {}): Promise<EnqueueResult[]> {
    return this.#track(() => this.#enqueueMany(items, options));
  }

  async #enqueueMany(items: ReadonlyArray<EnqueueItem<S>>, options: CallOptions): Promise<EnqueueResult[]> {
    const { client } = parse(callOptionsSchema, options, "options");
    const list = parse(enqueueItemsSchema, items, "items");
    if (list.length === 0) return [];
    const prepared = list.map((item, i) => prepareJob(item.type, item.payload, item.options ?? {}, this.#rules, `items.${i}.`));
    const results = await insertJobs(this.#target(client), prepared);
    if (this.listens("job:enqueued")) for (const result of results) this.emit("job:enqueued", result);
    return results;
  }

  /**
   * The job with this id, or `null` (it never existed, or was pruned).
   * @throws {@link ValidationError} when `id` is not a UUID.
   */
  async getJob(id: string, options: CallOptions = {}): Promise<Job | null> {
    const jobId = parse(jobIdSchema, id, "id");
    const { client } = parse(callOptionsSchema, options, "options");
    return this.#track(async () => {
      const [row] = await jobGet(this.#sql(client), { id: jobId });
      return row ? jobFromRow(row) : null;
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
    const statement = onlyDead ? jobListDead : jobList;
    return this.#track(async () => {
      const rows = await statement(this.#pooled, { statuses, queue: opts.queue ?? null, type: opts.type ?? null, group: opts.group ?? null, cursor, limit: limit + 1 });
      const jobs = rows.slice(0, limit).map(jobFromRow);
      return { jobs, nextCursor: rows.length > limit ? jobs[jobs.length - 1]!.id : null };
    });
  }

  /**
   * Cancels a job. A queued or failed one is `canceled` at once. A running one
   * is asked to stop: the call records the request (`cancelRequestedAt`) and
   * returns the job still `running`; its worker, told by a notification (or
   * at its next lease extension if it missed it), aborts the handler's
   * `ctx.signal` with a cancellation reason and writes `canceled`. If the
   * handler finishes first, the job keeps that outcome instead: it ends
   * succeeded or canceled, never both.
   * @throws {@link InvalidStateError} for a finished job (succeeded, dead or canceled).
   * @throws {@link JobNotFoundError} when no job has this id.
   * @example await queue.cancel(job.id);
   */
  async cancel(id: string, options: CallOptions = {}): Promise<Job> {
    return this.#transition(id, options, (sql, jobId) => jobCancel(sql, { id: jobId, channel: this.#channel }), "cancel", [...CANCELABLE, "running"]);
  }

  /**
   * Puts a failed, dead or canceled job back to `queued`, runnable now, and
   * wakes idle workers. It keeps its attempts and error history.
   * @throws {@link InvalidStateError} for a queued, running or succeeded job.
   * @throws {@link JobNotFoundError} when no job has this id.
   */
  async retry(id: string, options: CallOptions = {}): Promise<Job> {
    return this.#transition(id, options, (sql, jobId) => jobRetry(sql, { id: jobId, channel: this.#channel }), "retry", RETRYABLE);
  }

  /**
   * Waits until the job finishes: resolves with it when it `succeeded` (its
   * `result` included), rejects with a `JobFailedError` (carrying the job and
   * its error history) when it ends `dead` or `canceled`, with a
   * `WaitTimeoutError` after `timeoutMs`, or with `signal`'s reason when it
   * aborts. A job that already finished settles at once. Works whichever
   * process runs the job: the Queue listens on one connection of its pool,
   * shared by all its waits, while any wait is pending, and reads the job
   * again on each notification about it and after a reconnect. `onProgress`
   * is called with each new `ctx.progress()` value it reads.
   * @throws {@link JobFailedError} when the job ends `dead` or `canceled`.
   * @throws {@link WaitTimeoutError} when `timeoutMs` passes first.
   * @throws {@link JobNotFoundError} when no job has this id.
   * @throws {@link ConfigError} when the Queue is closed while waiting.
   * @example const job = await queue.waitFor(id, { timeoutMs: 30_000 });
   */
  async waitFor(id: string, options: WaitOptions = {}): Promise<Job> {
    const jobId = parse(jobIdSchema, id, "id");
    const opts = parse(waitOptionsSchema, options, "options");
    return this.#track(() => this.#waits.wait(jobId, { timeoutMs: opts.timeoutMs, signal: opts.signal, onProgress: opts.onProgress }));
  }

  /**
   * `enqueue`, then `waitFor` the job (or the existing one, for an
   * idempotency key already used). Resolves with the finished job.
   * @example const { result } = await queue.enqueueAndWait("resize", { url }, {}, { timeoutMs: 60_000 });
   */
  async enqueueAndWait<T extends JobType<S>>(
    type: T,
    payload: PayloadOf<S, T>,
    options: EnqueueOptions & CallOptions = {},
    wait: WaitOptions = {},
  ): Promise<Job<PayloadOf<S, T>>> {
    parse(waitOptionsSchema, wait, "wait");
    const { job } = await this.enqueue(type, payload, options);
    return (await this.waitFor(job.id, wait)) as Job<PayloadOf<S, T>>;
  }

  /**
   * Puts dead jobs matching `filter` back to `queued`, runnable now, and
   * wakes idle workers. Each job keeps its attempts and error history and gets
   * one more try. Works in batches of 1,000 (a short transaction each); jobs
   * that die again while it runs may be retried again. An empty filter is
   * refused: pass `{ all: true }` to retry every dead job.
   * @throws {@link ValidationError} for an empty or invalid filter.
   * @example await queue.retryDead({ type: "send_email", finishedAfter: new Date(Date.now() - 3_600_000) });
   */
  async retryDead(filter: DeadJobFilter): Promise<{
    /** How many dead jobs were put back to `queued`. */
    retried: number;
  }> {
    const f = parse(deadJobFilterSchema, filter, "filter");
    return this.#track(async () => ({
      retried: await eachDeadBatch(this.#pooled, jobDeadRetry, f, { channel: this.#channel }),
    }));
  }

  /**
   * Deletes dead jobs matching `filter`, in batches of 1,000. An empty filter
   * is refused: pass `{ all: true }` to empty the dead-letter state.
   * @throws {@link ValidationError} for an empty or invalid filter.
   * @example await queue.purgeDead({ queue: "imports", finishedBefore: new Date("2026-01-01") });
   */
  async purgeDead(filter: DeadJobFilter): Promise<{
    /** How many dead jobs were deleted. */
    purged: number;
  }> {
    const f = parse(deadJobFilterSchema, filter, "filter");
    return this.#track(async () => ({ purged: await eachDeadBatch(this.#pooled, jobDeadPurge, f, {}) }));
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
    const [rows, paused, limited] = await Promise.all([queueStats(this.#pooled), this.#pausedQueues(), readLimits(this.#pooled, null)]);
    return statsFromRows(rows, paused, limited);
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
      const [row] = await queuePause(this.#pooled, { queue: queueName });
      return { queue: queueName, paused: true, pausedAt: row!.paused_at };
    });
  }

  /** Resumes a paused queue and wakes its idle workers at once. Resuming a running queue does nothing. */
  async resume(name: string): Promise<QueueState> {
    const queueName = parse(nameSchema, name, "name");
    return this.#track(async () => {
      await queueResume(this.#pooled, { queue: queueName, channel: this.#channel });
      return { queue: queueName, paused: false, pausedAt: null };
    });
  }

  /** The queues paused now, by name. */
  async pausedQueues(): Promise<QueueState[]> {
    return this.#track(() => this.#pausedQueues());
  }

  async #pausedQueues(): Promise<QueueState[]> {
    const rows = await queuesPaused(this.#pooled);
    return rows.map((r) => ({ queue: r.name, paused: true, pausedAt: r.paused_at }));
  }

  /**
   * The workers running against this schema, by id: their queues, types,
   * concurrency, the handlers they are running and when they last reported.
   * A worker that died stays listed (its `seenAt` no longer moves) until an
   * hour has passed; pass `seenWithinMs` to see only the ones heard from
   * lately.
   * @example const alive = await queue.workers({ seenWithinMs: 60_000 });
   */
  async workers(options: WorkersOptions = {}): Promise<WorkerInfo[]> {
    const opts = parse(workersOptionsSchema, options, "options");
    return this.#track(async () => (await workersList(this.#pooled, { seenWithinMs: opts.seenWithinMs ?? null })).map(workerFromRow));
  }

  /**
   * Sets a queue's cluster-wide limits, persistently; every worker's next
   * claim honours them, without a restart. `concurrency` caps the queue's
   * running jobs across every worker and process; `rate` caps the jobs started
   * in any window of `intervalMs`; `group.concurrency` caps the jobs of each
   * group (the `group` enqueue option) that hold a slot at once, running or
   * failed and waiting for a retry: with 1, a group's jobs run one at a
   * time, in order. A field left out keeps its current limit,
   * `null` removes it, and `setLimits(name, null)` removes all. Idle workers
   * are woken at once. Resolves to the queue's limits after the change. See
   * docs/flow-control.md for the guarantees.
   * @example
   * await queue.setLimits("emails", { concurrency: 20, rate: { limit: 100, intervalMs: 1000 } });
   * await queue.setLimits("emails", { rate: null }); // keep the concurrency limit, drop the rate
   * await queue.setLimits("events", { group: { concurrency: 1 } }); // each group's jobs in order
   * await queue.setLimits("emails", null);           // no limits
   */
  async setLimits(name: string, limits: LimitsInput): Promise<QueueLimitsState> {
    const queueName = parse(nameSchema, name, "name");
    const parsed = parse(limitsSchema, limits, "limits");
    return this.#track(() => writeLimits(this.#pooled, this.#channel, queueName, parsed));
  }

  /** A queue's limits (all null when it has none). */
  async getLimits(name: string): Promise<QueueLimitsState> {
    const queueName = parse(nameSchema, name, "name");
    return this.#track(async () => {
      const [state] = await readLimits(this.#pooled, queueName);
      return state ?? { queue: queueName, concurrency: null, rate: null, group: null };
    });
  }

  /** The queues that have a limit, by name. */
  async listLimits(): Promise<QueueLimitsState[]> {
    return this.#track(() => readLimits(this.#pooled, null));
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
    return this.#track(() => prune(this.#pooled, pruneAges(opts)));
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
    const definition = defineSchedule(name, cron, options, () => prepareJob(type, payload ?? null, {}, this.#rules, ""));
    return this.#track(async () => scheduleFromRow((await scheduleUpsert(this.#pooled, definition))[0]!));
  }

  /** Removes a schedule; resolves to whether it existed. Jobs it already enqueued stay. */
  async unschedule(name: string): Promise<boolean> {
    const scheduleName = parse(nameSchema, name, "name");
    return this.#track(async () => (await scheduleDelete(this.#pooled, { name: scheduleName })).length > 0);
  }

  /** One schedule with its next tick, or `null`. */
  async getSchedule(name: string): Promise<Schedule | null> {
    const scheduleName = parse(nameSchema, name, "name");
    return this.#track(async () => {
      const [row] = await scheduleList(this.#pooled, { name: scheduleName });
      return row ? scheduleFromRow(row) : null;
    });
  }

  /** Every schedule, by name, with its next tick. */
  async listSchedules(): Promise<Schedule[]> {
    return this.#track(async () => {
      const rows = await scheduleList(this.#pooled, { name: null });
      const now = new Date();
      return rows.map((row) => scheduleFromRow(row, now));
    });
  }

  /**
   * Lets the calls already in flight finish (each resolves or rejects as it
   * would have), then ends the pool if this queue created it. Calls made after
   * `close()` reject with a `ConfigError`, and pending `waitFor` calls
   * reject with one at once. Safe to call twice: the second call gets the
   * same promise.
   * @example
   * process.on("SIGTERM", async () => {
   *   await queue.close();
   * });
   */
  close(): Promise<void> {
    this.#closed ??= this.#drain();
    return this.#closed;
  }

  async #drain(): Promise<void> {
    // Refuse new calls first; waits in flight end now rather than hold the close up.
    const settled = this.#calls.close();
    await this.#waits.close(new ConfigError("This Queue was closed while waiting for the job"));
    await settled;
    // A wake-up still owed to workers goes out before the pool ends.
    await this.#wake.flush();
    if (this.#handle.owned) await this.#handle.pool.end();
  }

  async #transition(
    id: string,
    options: CallOptions,
    change: (sql: Sql, jobId: string) => Promise<JobRow[]>,
    operation: string,
    allowed: readonly string[],
  ): Promise<Job> {
    const jobId = parse(jobIdSchema, id, "id");
    const { client } = parse(callOptionsSchema, options, "options");
    return this.#track(async () => {
      const sql = this.#sql(client);
      const [changed] = await change(sql, jobId);
      if (changed) return jobFromRow(changed);
      const [current] = await jobGet(sql, { id: jobId });
      if (!current) throw new JobNotFoundError(jobId);
      throw new InvalidStateError(jobId, current.status, operation, allowed);
    });
  }

  /** Where an enqueue goes: the caller's transaction, or the Queue's own pool. */
  #target(client: Executor | undefined): EnqueueTarget {
    return {
      sql: this.#sql(client),
      channel: this.#channel,
      wake: this.#wake,
      inTransaction: client !== undefined,
      binary: client === undefined ? this.#binary : sendsBinary(client),
    };
  }

  /**
   * Where a call's statements run: on the caller's client (as plain text,
   * inside its transaction), or on the Queue's own pool.
   */
  #sql(client: Executor | undefined): Sql {
    return client ? { schema: this.#schema, run: runner(client, false) } : this.#pooled;
  }

  #track<T>(work: () => Promise<T>): Promise<T> {
    return this.#calls.track(work);
  }
}
