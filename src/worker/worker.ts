import { hostname } from "node:os";
import { runner, openPool, type PoolHandle } from "../db.js";
import { ConfigError, coerceError, DatabaseError } from "../errors.js";
import { TypedEmitter, type WorkerEvents } from "../events.js";
import { scopeLogger, type Logger } from "../logger.js";
import { maintenanceDuties } from "../maintenance/duties.js";
import type { Duty } from "../maintenance/duty.js";
import { Maintainer } from "../maintenance/maintainer.js";
import type { PruneResult } from "../maintenance/pruner.js";
import type { RescueResult } from "../maintenance/rescuer.js";
import type { SchedulerDuty, SchedulerResult } from "../maintenance/scheduler.js";
import { assertSchemaVersion } from "../schema-version.js";
import type { Sql } from "../sql/query.js";
import { loadTracing, traceExecution, tracingOn } from "../tracing.js";
import type { Job, JobSchemas } from "../types.js";
import { parse } from "../validate.js";
import { AbortReason, Attempt } from "./attempt.js";
import { Claimer, MAX_HOLD_MS } from "./claimer.js";
import { jobContext } from "./context.js";
import { execute, type Verdict } from "./executor.js";
import { Leases } from "./leases.js";
import { Notifier } from "../notifier.js";
import { resolveWorkerOptions, stopOptionsSchema, type ResolvedWorkerOptions } from "./options.js";
import { Outcomes } from "./outcomes.js";
import { Presence } from "./presence.js";
import { Progress } from "./progress.js";
import { Slots } from "./slots.js";
import { joinSignals, leaveSignalsWhen, type SignalMember } from "./signals.js";
import type { Handlers, WorkerOptions } from "./types.js";
import { Waker } from "./waker.js";

type State = "new" | "starting" | "running" | "stopping" | "stopped";

/**
 * The longest a buffered job's start mark waits (a tenth of the hold when that
 * is shorter): most short jobs finish first and need none.
 */
const MARK_DELAY_MS = 100;

/**
 * At shutdown, how long a worker waits for handlers it cut off (grace period
 * passed, or a second signal) to return, so that one honouring its signal can
 * run its cleanup before the process exits. Their jobs are released already.
 */
const ABORTED_CLEANUP_MS = 2000;

/** The payload prefix of a cancel request on the jobs channel (queue names cannot hold a space). */
const CANCEL_PREFIX = "cancel ";

/**
 * Runs jobs: claims them in batches for its free slots, holds leases with
 * heartbeats, writes outcomes in batches, retries with backoff, rescues jobs
 * of dead workers, enqueues the ticks of recurring schedules, deletes
 * finished jobs past their retention age, and shuts down gracefully. A
 * handler's return value is the job's result; what it throws fails the
 * attempt (retried with backoff until `maxAttempts`, then `dead`).
 *
 * The work is split by seam: the `Claimer` claims and buffers jobs, `Slots`
 * holds the running attempts, `Leases` keeps their leases, `Outcomes`
 * records how attempts ended, and the `Maintainer` runs the maintenance
 * duties. The worker itself is the lifecycle: start, run each job in a slot,
 * stop. Its events (`worker.on(...)`) are listed in {@link WorkerEvents}.
 *
 * @example
 * const worker = new Worker({ send_email: async (payload, ctx) => mailer.send(payload, { signal: ctx.signal }) });
 * await worker.start();
 * process.on("SIGTERM", () => worker.stop());
 */
export class Worker<S extends JobSchemas = {}, H extends Record<string, unknown> = Record<string, unknown>> extends TypedEmitter<WorkerEvents> {
  /** This worker's id, as stored in `locked_by`. */
  readonly id: string;
  readonly #o: ResolvedWorkerOptions;
  readonly #handle: PoolHandle;
  readonly #types: string[];
  readonly #logger: Logger;
  readonly #slots = new Slots();
  readonly #waker: Waker;
  readonly #claimer: Claimer;
  readonly #leases: Leases;
  readonly #outcomes: Outcomes;
  readonly #maintainer: Maintainer;
  readonly #presence: Presence;
  readonly #progress: Progress;
  readonly #duties: { rescue: Duty<RescueResult>; prune: Duty<PruneResult>; schedule: SchedulerDuty };
  #notifier: Notifier | undefined;
  #state: State = "new";
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  /** This worker in the process-wide signal handling, with `handleSignals`. */
  #signalMember: SignalMember | undefined;

  /**
   * Creates a worker; it claims nothing until `start()`. Without `pool`, it
   * opens its own pool of `poolSize` connections (6 by default; one stays on
   * LISTEN) to `connectionString` or `DATABASE_URL`, connecting lazily.
   * Every default is in {@link WORKER_DEFAULTS}.
   *
   * @param handlers Handlers by job type: a function `(payload, ctx) =>
   *   result`, or `{ handler, timeoutMs, backoff, schema }` for per-type
   *   settings.
   * @param options Connection and schema, `concurrency` (default 10),
   *   `queues` (default every queue), `leaseMs` (default 30000), `backoff`,
   *   maintenance settings, `handleSignals`, `shutdownTimeoutMs` (default
   *   30000), `logger`.
   * @throws {@link ValidationError} for an invalid handler or option, naming it (e.g. `options.concurrency`, `handlers.send_email.timeoutMs`).
   * @throws {@link ConfigError} when neither `connectionString` nor `pool` is given and `DATABASE_URL` is unset.
   * @example
   * import { z } from "zod";
   * import { Worker, PermanentJobError } from "djps";
   *
   * const worker = new Worker(
   *   {
   *     send_email: async (payload, ctx) => {
   *       await mailer.send(payload, { signal: ctx.signal });
   *       return { sent: true };
   *     },
   *     resize_image: { handler: resize, timeoutMs: 60_000, backoff: { baseMs: 5000 } },
   *   },
   *   {
   *     schemas: { send_email: z.object({ to: z.email() }) }, // types and checks the payload
   *     concurrency: 20,
   *     queues: ["default", "emails"],
   *     handleSignals: true, // stop gracefully on SIGINT/SIGTERM
   *   },
   * );
   * worker.on("job:dead", ({ job, error }) => alert(job.id, error.message));
   * await worker.start();
   */
  constructor(handlers: Handlers<NoInfer<S>, H>, options: WorkerOptions<S> = {}) {
    super();
    const o = resolveWorkerOptions(handlers, options);
    this.#o = o;
    this.id = o.workerId;
    this.#types = [...o.handlers.keys()];
    this.#logger = scopeLogger(o.logger, { workerId: this.id });
    this.#waker = new Waker(o.pollIntervalMs);
    this.#handle = openPool(o.connection, o.poolSize, "djps worker");
    const sql: Sql = { schema: o.schema, run: runner(this.#handle.pool, true) };
    const report = (error: Error, doing: string) => this.#report(error, doing);
    const emit = <K extends keyof WorkerEvents>(event: K, data: WorkerEvents[K]) => this.emit(event, data);
    this.#outcomes = new Outcomes({ sql, workerId: this.id, channel: this.#o.channel, logger: this.#logger, emit, listens: (e) => this.listens(e), report });
    this.#leases = new Leases({
      sql,
      workerId: this.id,
      leaseMs: o.leaseMs,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      markDelayMs: Math.min(MARK_DELAY_MS, Math.floor(Math.min(o.leaseMs, MAX_HOLD_MS) / 10)),
      running: this.#slots.running,
      lost: (entry) => this.#leaseLost(entry),
      canceled: (entry) => entry.abort(new AbortReason("canceled", "The job was canceled")),
      report,
    });
    this.#claimer = new Claimer({
      sql,
      queues: o.queues,
      types: this.#types,
      workerId: this.id,
      leaseMs: o.leaseMs,
      concurrency: o.concurrency,
      waker: this.#waker,
      logger: this.#logger,
      running: () => this.#slots.size,
      start: (job, held) => this.#startJob(job, held),
      release: (jobs) => {
        for (const job of jobs) void this.#outcomes.release(job).catch(() => {});
      },
      report,
    });
    this.#progress = new Progress({
      sql,
      workerId: this.id,
      running: this.#slots.running,
      written: (job, progress) => {
        if (this.listens("job:progress")) this.emit("job:progress", { job, progress });
      },
      report,
    });
    this.#presence = new Presence({
      sql,
      identity: { id: this.id, host: hostname(), pid: process.pid, queues: o.queues, types: this.#types, concurrency: o.concurrency },
      intervalMs: o.heartbeatIntervalMs,
      running: () => this.#slots.size,
      report,
    });
    const duties = maintenanceDuties({ sql, channel: this.#o.channel, logger: this.#logger, emit, wake: () => this.#waker.wake(true) }, o);
    this.#duties = duties;
    this.#maintainer = new Maintainer(duties.running, report);
  }

  /** The job types this worker handles. */
  get types(): readonly string[] {
    return this.#types;
  }

  /** Jobs whose handlers are running now. */
  get runningCount(): number {
    return this.#slots.size;
  }

  /**
   * Starts claiming. Rejects if the database cannot be reached or the schema
   * was not migrated; the worker can then be started again. While a start is
   * in flight or done, calling it again returns the same promise. A worker
   * that was stopped (or is stopping) does not start again: it rejects with a
   * `ConfigError`; make a new Worker instead.
   * @throws {@link ConfigError} when the schema is missing or older than this
   *   djps needs (run `npx djps migrate`), newer with a change this djps
   *   cannot use (upgrade djps), or the worker was stopped.
   * @throws {@link DatabaseError} when the database cannot be reached.
   * @example
   * await worker.start(); // resolves once the worker claims jobs
   */
  start(): Promise<void> {
    if (this.#stopPromise) {
      return Promise.reject(new ConfigError("This worker was stopped and cannot be started again: create a new Worker"));
    }
    this.#startPromise ??= this.#start();
    return this.#startPromise;
  }

  /**
   * Stops claiming, waits up to `timeoutMs` for running jobs to finish, then
   * aborts the rest and puts them back to `queued` (without spending an
   * attempt) so another worker picks them up at once. Calling it again returns
   * the same promise. Resolves once every job is finished or released, the
   * maintenance passes have ended, and the pool djps created is closed (a
   * `pool` that was given stays open). Stopping a worker that never started
   * just releases its pool.
   * @param options `timeoutMs`: the grace period for running jobs, in ms
   *   (default: the `shutdownTimeoutMs` option, 30000).
   * @throws {@link ValidationError} (as a rejection) for invalid options.
   * @example
   * process.on("SIGTERM", async () => {
   *   await worker.stop({ timeoutMs: 10_000 });
   *   process.exit(0);
   * });
   */
  stop(options?: {
    /** How long to wait for running jobs before releasing them, in ms. @default the `shutdownTimeoutMs` option (30000) */
    timeoutMs?: number;
  }): Promise<void> {
    let timeoutMs: number;
    try {
      timeoutMs = parse(stopOptionsSchema, options, "options")?.timeoutMs ?? this.#o.shutdownTimeoutMs;
    } catch (error) {
      return Promise.reject(error);
    }
    this.#stopPromise ??= this.#stop(timeoutMs);
    return this.#stopPromise;
  }

  /** Runs one rescue pass now (the maintenance loop does this on its own). */
  async rescueExpired(): Promise<RescueResult> {
    return this.#duties.rescue.runOnce();
  }

  /**
   * Deletes finished jobs past their retention age now, in batches (the
   * maintenance loop does this every `retention.intervalMs`). Returns at once
   * with nothing deleted while another worker is pruning.
   */
  async pruneFinished(): Promise<PruneResult> {
    return this.#duties.prune.runOnce();
  }

  /**
   * Runs one scheduler pass now (the maintenance loop does this every
   * `scheduler.intervalMs`): enqueues the due ticks of every schedule. `now`
   * is the time to judge ticks by, for tests and tools; it defaults to this
   * machine's clock.
   */
  async runSchedules(now?: Date): Promise<SchedulerResult> {
    return now === undefined ? this.#duties.schedule.runOnce() : this.#duties.schedule.runAt(now);
  }

  async #start(): Promise<void> {
    this.#state = "starting";
    await loadTracing();
    try {
      await assertSchemaVersion(this.#handle.pool, this.#o.schema);
      await this.#presence.start();
      if (this.#o.listen) {
        this.#notifier = this.#listen();
        await this.#notifier.start();
      }
    } catch (error) {
      await this.#notifier?.close();
      this.#notifier = undefined;
      await this.#presence.stop();
      // Back to the start: the caller may try again (say, once the database is
      // up), or call stop() to release the pool.
      this.#state = "new";
      this.#startPromise = undefined;
      throw error instanceof ConfigError || error instanceof DatabaseError ? error : new DatabaseError(coerceError(error).message, undefined, { cause: error });
    }
    this.#state = "running";
    this.#leases.start();
    this.#maintainer.start();
    this.#claimer.start();
    if (this.#o.handleSignals) {
      this.#signalMember = {
        stop: () => this.stop(),
        // A second signal: what the end of the grace period would do, now.
        releaseRunning: () => this.#slots.abortAll(),
        logger: this.#logger,
      };
      joinSignals(this.#signalMember);
    }
    this.#logger.info({ types: this.#types, queues: this.#o.queues, concurrency: this.#o.concurrency }, "worker started");
    this.emit("worker:started", { workerId: this.id });
  }

  /** The LISTEN connection: a notification for one of this worker's queues wakes the claim loop. */
  #listen(): Notifier {
    const queues = this.#o.queues;
    return new Notifier(this.#handle.pool, this.#o.channel, {
      onNotify: (payload) => {
        // `cancel <job id>` (see queue.cancel); `job <id>` is for waiters
        // (see waits.ts); anything else is a queue name (which has no space).
        if (payload.startsWith(CANCEL_PREFIX)) this.#cancelRequested(payload.slice(CANCEL_PREFIX.length));
        else if (payload.includes(" ")) return;
        else if (queues === null || queues.includes(payload)) this.#waker.wake(true);
      },
      onListening: (reconnect) => {
        if (reconnect) this.#logger.info({}, "LISTEN connection restored");
        this.emit("worker:listening", { workerId: this.id, reconnect });
        // Anything enqueued while we were not listening is found now, and a
        // cancel requested meanwhile by the next lease extension, sent now.
        this.#waker.wake(true);
        if (reconnect) void this.#leases.beatNow();
      },
      onError: (error) => this.#report(error, "listening for notifications (reconnecting)"),
    });
  }

  async #stop(timeoutMs: number): Promise<void> {
    await this.#startPromise?.catch(() => {});
    if (this.#state === "stopped" || this.#state === "new") {
      this.#state = "stopped";
      if (this.#handle.owned && !this.#startPromise) await this.#handle.pool.end().catch(() => {});
      return;
    }
    this.#state = "stopping";
    this.#maintainer.interrupt();
    // stop() returns the stop in flight, this one: a signal that comes while
    // it runs waits for it before the process exits.
    if (this.#signalMember) leaveSignalsWhen(this.#signalMember, this.stop());
    // Claimed but never started: back to the queue at once, no attempt spent.
    for (const job of await this.#claimer.stop()) {
      void this.#outcomes.release(job).then(
        (outcome) => this.#outcomes.announce(job, "abandon", outcome, undefined, 0, undefined),
        () => {},
      );
    }
    if (!(await this.#slots.allFinished(timeoutMs))) {
      this.#logger.warn({ jobs: [...this.#slots.running.keys()] }, "shutdown grace period passed: releasing running jobs");
      this.#slots.abortAll();
      await this.#slots.allFinished(Infinity);
    }
    // Jobs released by the grace period or a second signal: their handlers
    // get a moment to finish their cleanup before the worker says it stopped.
    await this.#slots.abortedHandlersSettled(ABORTED_CLEANUP_MS);
    await this.#maintainer.stop();
    await Promise.all([this.#leases.stop(), this.#outcomes.close(), this.#progress.stop()]);
    await this.#presence.stop();
    await this.#notifier?.close();
    if (this.#handle.owned) await this.#handle.pool.end().catch(() => {});
    this.#state = "stopped";
    this.#logger.info({}, "worker stopped");
    this.emit("worker:stopped", { workerId: this.id });
  }

  /** Runs a claimed job in a free slot; one from the buffer (`held`) gets its start marked. */
  #startJob(job: Job, held: boolean): void {
    // An older attempt of this job may still run here: its lease passed (say,
    // heartbeats did not get through), it was rescued, and this worker claimed
    // it again. That attempt lost its lease.
    const older = this.#slots.get(job.id);
    if (older) this.#leaseLost(older);
    const entry = new Attempt(job);
    this.#slots.take(entry);
    if (held) {
      job.startedAt = new Date();
      this.#leases.markStarted(entry);
    }
    if (this.listens("job:started")) this.emit("job:started", { job });
    // Not awaited: #runJob never rejects (see there).
    void this.#runJob(entry);
  }

  /**
   * Runs one attempt and records its outcome; never rejects. Nothing on this
   * path may leave the attempt hanging: the promise is not awaited, so a throw
   * here would leave the row `running`, its lease heartbeated, its slot taken
   * and stop() waiting for ever. execute() and the tracing wrapper do not throw, the
   * logger swallows its own failures and emit() its listeners'; the catches
   * here are the last resort for whatever still does: the slot comes back and
   * the attempt fails.
   */
  async #runJob(entry: Attempt): Promise<void> {
    try {
      const job = entry.job;
      const spec = this.#o.handlers.get(job.type)!;
      const ctx = jobContext(entry, this.id, this.#logger, this.#leases, this.#progress);
      let verdict: Verdict;
      try {
        verdict = tracingOn()
          ? await traceExecution(job, job.attempts, () => execute(entry, spec, ctx), (v) => (v.kind === "fail" ? v.error : undefined))
          : await execute(entry, spec, ctx);
      } catch (thrown) {
        verdict = { kind: "fail", error: coerceError(thrown), permanent: false };
      }
      const durationMs = performance.now() - entry.startedAt;
      this.#freeSlot(entry, durationMs);
      // The last progress it reported goes in before its outcome.
      if (this.#progress.waiting(entry)) await this.#progress.settle(entry);
      await this.#outcomes.settle(job, spec, verdict, entry.reason, durationMs);
    } catch (failure) {
      // The last resort: whatever the catches above did not foresee is reported, never unhandled.
      this.#report(coerceError(failure), "running a job");
    }
  }

  /**
   * Gives a finished attempt's slot back and starts buffered jobs in it. The
   * wake-up runs whatever starting those jobs throws.
   */
  #freeSlot(entry: Attempt, durationMs: number): void {
    this.#slots.free(entry);
    try {
      this.#claimer.slotFreed(durationMs);
    } catch (failure) {
      this.#report(coerceError(failure), "starting buffered jobs");
    } finally {
      this.#waker.wake(false);
    }
  }

  /**
   * A cancel was requested for a job: one running here has its handler cut
   * off (its verdict writes `canceled`); one waiting in the buffer is
   * canceled without starting.
   */
  #cancelRequested(jobId: string): void {
    const entry = this.#slots.get(jobId);
    if (entry) {
      entry.abort(new AbortReason("canceled", "The job was canceled"));
      return;
    }
    const held = this.#claimer.takeBuffered(jobId);
    if (held) {
      void this.#outcomes.cancel(held).then(
        (outcome) => this.#outcomes.announce(held, "cancel", outcome, undefined, 0, undefined),
        () => {},
      );
    }
  }

  #leaseLost(entry: Attempt): void {
    if (entry.reason) return;
    this.#logger.warn({ jobId: entry.job.id, attempt: entry.job.attempts }, "lease lost: aborting the handler");
    entry.abort(new AbortReason("lease-lost", "This worker lost the job's lease; another worker may run it"));
    this.emit("job:lease-lost", { job: entry.job });
  }

  #report(error: Error, during: string): void {
    this.#logger.error({ error: error.message, during }, `error while ${during}`);
    this.emit("worker:error", { workerId: this.id, error, during });
  }

  protected override listenerFailed(event: string, error: unknown): void {
    this.#logger.error({ event, error: coerceError(error).message }, "an event listener threw");
  }
}
