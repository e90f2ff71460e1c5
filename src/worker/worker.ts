import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { openPool, run, type PoolHandle, type Statement } from "../db.js";
import { ConfigError, coerceError, DatabaseError, SnoozeJob, ValidationError } from "../errors.js";
import { TypedEmitter, type WorkerEvents } from "../events.js";
import { scopeLogger, silentLogger, type Logger } from "../logger.js";
import { Pruner, type PruneResult } from "../maintenance/pruner.js";
import { retentionAges } from "../maintenance/retention.js";
import { Rescuer, type RescueResult } from "../maintenance/rescuer.js";
import { Scheduler, type SchedulerResult } from "../maintenance/scheduler.js";
import { Queue } from "../queue.js";
import { scheduleAdvance } from "../sql/scheduleAdvance.js";
import { scheduleList } from "../sql/scheduleList.js";
import { jobsChannel, schemaName } from "../schema-name.js";
import { loadTracing, rememberProducer, traceExecution, tracingOn } from "../tracing.js";
import { assertSchemaVersion } from "../schema-version.js";
import { jobClaim } from "../sql/jobClaim.js";
import { jobComplete, jobCompleted } from "../sql/jobComplete.js";
import { jobFail } from "../sql/jobFail.js";
import { jobHeartbeat } from "../sql/jobHeartbeat.js";
import { jobPrune } from "../sql/jobPrune.js";
import { jobRescue } from "../sql/jobRescue.js";
import { jobFromRow } from "../sql/jobRow.js";
import { jobSnooze } from "../sql/jobSnooze.js";
import type { Job, JobSchemas } from "../types.js";
import { parse } from "../validate.js";
import { failureNumber, retryDelayMs } from "./backoff.js";
import { Batcher, completeWriter, failWriter, snoozeWriter, startWriter, type FailData, type Outcome } from "./completer.js";
import { Attempt } from "./attempt.js";
import { AbortReason, execute, failureText, storableFailure, type Handler, type JobContext, type ResolvedHandler, type Verdict } from "./executor.js";
import { Ticker } from "./heartbeat.js";
import { Prefetch } from "./prefetch.js";
import type { Handlers, WorkerOptions } from "./types.js";
import { Waker } from "./waker.js";
import { Notifier } from "./notifier.js";
import { joinSignals, leaveSignalsWhen, type SignalMember } from "./signals.js";
import { DEFAULT_BACKOFF, handlersSchema, stopOptionsSchema, workerOptionsSchema } from "./options.js";

/** A claimed job waiting in the buffer for a free slot, not started yet. */
interface Held {
  job: Job;
  /** When (performance.now) to stop waiting for a slot and put it back: half its hold, so the hold cannot pass under it. */
  releaseAt: number;
}

const byPriority = (a: Held, b: Held): number => b.job.priority - a.job.priority;

/**
 * The longest a claimed job waits in a worker's buffer, unstarted, before it
 * must start or go back. It bounds how long a dead worker's buffered jobs stay
 * hidden from the others (the buffer holds about 25 ms of work, so a healthy
 * worker starts them long before).
 */
const MAX_HOLD_MS = 5000;

/** `ctx.snooze()`: ends the attempt; the executor turns the throw into a snooze. */
const snooze = (delayMs: number): never => {
  throw new SnoozeJob(delayMs);
};

type State = "new" | "starting" | "running" | "stopping" | "stopped";

/**
 * Runs jobs: claims them in batches for its free slots, holds leases with
 * heartbeats, writes outcomes in batches, retries with backoff, rescues jobs
 * of dead workers, and shuts down gracefully.
 *
 * @example
 * const worker = new Worker({ send_email: async (payload, ctx) => mailer.send(payload, { signal: ctx.signal }) });
 * await worker.start();
 * process.on("SIGTERM", () => worker.stop());
 */
export class Worker<S extends JobSchemas = {}> extends TypedEmitter<WorkerEvents> {
  /** This worker's id, as stored in `locked_by`. */
  readonly id: string;
  readonly #schema: string;
  readonly #channel: string;
  readonly #handle: PoolHandle;
  readonly #handlers = new Map<string, ResolvedHandler>();
  readonly #types: string[];
  readonly #queues: string[] | null;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #listen: boolean;
  readonly #shutdownTimeoutMs: number;
  readonly #handleSignals: boolean;
  readonly #logger: Logger;
  readonly #sql: { claim: Statement; heartbeat: Statement };
  readonly #completes: Batcher<string | null>;
  readonly #fails: Batcher<FailData>;
  readonly #snoozes: Batcher<number>;
  /** Marks that held jobs started: their lease goes from the short hold to the full lease. */
  readonly #starts: Batcher<null>;
  readonly #holdMs: number;
  readonly #holdTicker: Ticker;
  readonly #heartbeat: Ticker;
  readonly #rescueTicker: Ticker;
  readonly #rescuer: Rescuer;
  readonly #pruneTicker: Ticker | undefined;
  readonly #pruner: Pruner;
  readonly #scheduleTicker: Ticker | undefined;
  readonly #scheduler: Scheduler;
  #firstSchedule: Promise<void> | undefined;
  readonly #running = new Map<string, Attempt>();
  /**
   * Claimed jobs waiting for a free slot: held under a short lease that
   * heartbeats do not extend, released when they wait too long and at stop.
   */
  #buffer: Held[] = [];
  readonly #prefetch: Prefetch;
  /**
   * Buffered jobs waited out their hold: every slot is taken by jobs that run
   * longer than the buffer assumed. No claims ahead until a slot frees, or the
   * worker would claim, hold and put back the same jobs over and over.
   */
  #slotsStuck = false;
  #notifier: Notifier | undefined;
  #state: State = "new";
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  readonly #waker: Waker;
  #drained: (() => void) | undefined;
  /** This worker in the process-wide signal handling, with `handleSignals`. */
  #signalMember: SignalMember | undefined;

  constructor(handlers: NoInfer<Handlers<S>>, options: WorkerOptions<S> = {}) {
    super();
    const specs = parse(handlersSchema, handlers, "handlers");
    const o = parse(workerOptionsSchema, options, "options");
    this.#schema = schemaName(o.schema);
    this.#channel = jobsChannel(this.#schema);
    this.id = o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
    this.#concurrency = o.concurrency ?? 10;
    this.#queues = o.queues ?? null;
    this.#leaseMs = o.leaseMs ?? 30_000;
    this.#waker = new Waker(o.pollIntervalMs ?? 1000);
    this.#listen = o.listen ?? true;
    this.#shutdownTimeoutMs = o.shutdownTimeoutMs ?? 30_000;
    this.#handleSignals = o.handleSignals ?? false;
    this.#logger = scopeLogger(o.logger ?? silentLogger, { workerId: this.id });
    const backoff = { ...DEFAULT_BACKOFF, ...o.backoff };
    for (const [type, entry] of Object.entries(specs)) {
      const spec = typeof entry === "function" ? { handler: entry } : entry;
      this.#handlers.set(type, {
        handler: spec.handler as Handler,
        timeoutMs: spec.timeoutMs ?? o.timeoutMs,
        backoff: { ...backoff, ...spec.backoff },
        schema: spec.schema ?? o.schemas?.[type],
      });
    }
    this.#types = [...this.#handlers.keys()];
    this.#prefetch = new Prefetch(this.#concurrency);

    const s = this.#schema;
    this.#sql = { claim: jobClaim(s), heartbeat: jobHeartbeat(s) };
    // The LISTEN connection stays checked out: with a one-connection pool no
    // claim would ever get a connection, and the worker would hang silently.
    const poolMax = (o.pool as { options?: { max?: number } } | undefined)?.options?.max;
    if (this.#listen && poolMax !== undefined && poolMax < 2) {
      throw new ValidationError(
        "options.pool",
        `Expected \`options.pool\` to allow at least 2 connections (one stays on LISTEN), got \`max: ${poolMax}\`; or pass \`listen: false\``,
      );
    }
    this.#handle = openPool(o, o.poolSize ?? 4, "djps worker");
    const runSql = (sql: Statement, values: unknown[]) => run(this.#handle.pool, sql, values, true);
    const onWriteError = (error: Error) => this.#report(error, "writing job outcomes");
    this.#completes = new Batcher(completeWriter(runSql, { complete: jobComplete(s), completed: jobCompleted(s) }, this.id), onWriteError);
    this.#fails = new Batcher(failWriter(runSql, jobFail(s), this.id), onWriteError);
    this.#snoozes = new Batcher(snoozeWriter(runSql, jobSnooze(s), this.id, this.#channel), onWriteError);
    this.#starts = new Batcher(startWriter(runSql, this.#sql.heartbeat, this.id, this.#leaseMs), onWriteError);
    this.#holdMs = Math.min(this.#leaseMs, MAX_HOLD_MS);
    this.#holdTicker = new Ticker(Math.max(100, Math.floor(this.#holdMs / 4)), async () => this.#releaseStale());
    this.#rescuer = new Rescuer(runSql, jobRescue(s), s, this.#channel);
    this.#heartbeat = new Ticker(o.heartbeatIntervalMs ?? Math.floor(this.#leaseMs / 3), () => this.#beat());
    this.#rescueTicker = new Ticker(o.rescueIntervalMs ?? 15_000, () => this.#rescue());
    const ages = retentionAges(o.retention);
    this.#pruner = new Pruner(runSql, jobPrune(s), s, ages);
    const keepsAll = ages.succeededMs === false && ages.deadMs === false && ages.canceledMs === false;
    this.#pruneTicker = keepsAll ? undefined : new Ticker(o.retention?.intervalMs ?? 60_000, () => this.#prune());
    const scheduleQueue = new Queue({ pool: this.#handle.pool, schema: s });
    this.#scheduler = new Scheduler(runSql, { list: scheduleList(s), advance: scheduleAdvance(s) }, scheduleQueue);
    this.#scheduleTicker = o.scheduler === false ? undefined : new Ticker(o.schedulerIntervalMs ?? 1000, () => this.#schedule());
  }

  /** The job types this worker handles. */
  get types(): readonly string[] {
    return this.#types;
  }

  /** Jobs whose handlers are running now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /**
   * Starts claiming. Rejects if the database cannot be reached or the schema
   * was not migrated; the worker can then be started again. While a start is
   * in flight or done, calling it again returns the same promise. A worker
   * that was stopped (or is stopping) does not start again: it rejects with a
   * `ConfigError`; make a new Worker instead.
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
   * the same promise.
   */
  stop(options?: { timeoutMs?: number }): Promise<void> {
    let timeoutMs: number;
    try {
      timeoutMs = parse(stopOptionsSchema, options, "options")?.timeoutMs ?? this.#shutdownTimeoutMs;
    } catch (error) {
      return Promise.reject(error);
    }
    this.#stopPromise ??= this.#stop(timeoutMs);
    return this.#stopPromise;
  }

  /** Runs one rescue pass now (the maintenance loop does this on its own). */
  async rescueExpired(): Promise<RescueResult> {
    return this.#rescuer.runOnce();
  }

  /**
   * Deletes finished jobs past their retention age now, in batches (the
   * maintenance loop does this every `retention.intervalMs`). Returns at once
   * with nothing deleted while another worker is pruning.
   */
  async pruneFinished(): Promise<PruneResult> {
    return this.#pruner.runOnce();
  }

  /**
   * Runs one scheduler pass now (the maintenance loop does this every
   * `schedulerIntervalMs`): enqueues the due ticks of every schedule. `now`
   * is the time to judge ticks by, for tests and tools; it defaults to this
   * machine's clock.
   */
  async runSchedules(now?: Date): Promise<SchedulerResult> {
    return this.#scheduler.runOnce(now);
  }

  async #start(): Promise<void> {
    this.#state = "starting";
    await loadTracing();
    try {
      await assertSchemaVersion(this.#handle.pool, this.#schema);
      if (this.#listen) {
        this.#notifier = new Notifier(this.#handle.pool, this.#channel, {
          onNotify: (queue) => {
            if (this.#queues === null || this.#queues.includes(queue)) this.#waker.wake(true);
          },
          onListening: (reconnect) => {
            if (reconnect) this.#logger.info({}, "LISTEN connection restored");
            this.emit("worker:listening", { workerId: this.id, reconnect });
            // Anything enqueued while we were not listening is found now.
            this.#waker.wake(true);
          },
          onError: (error) => this.#report(error, "listening for notifications (reconnecting)"),
        });
        await this.#notifier.start();
      }
    } catch (error) {
      await this.#notifier?.close();
      this.#notifier = undefined;
      // Back to the start: the caller may try again (say, once the database is
      // up), or call stop() to release the pool.
      this.#state = "new";
      this.#startPromise = undefined;
      throw error instanceof ConfigError || error instanceof DatabaseError ? error : new DatabaseError(coerceError(error).message, undefined, { cause: error });
    }
    this.#state = "running";
    this.#heartbeat.start();
    this.#holdTicker.start();
    this.#rescueTicker.start();
    void this.#rescue();
    this.#pruneTicker?.start();
    this.#scheduleTicker?.start();
    if (this.#scheduleTicker) this.#firstSchedule = this.#schedule();
    this.#loop = this.#claimLoop();
    if (this.#handleSignals) {
      this.#signalMember = {
        stop: () => this.stop(),
        // A second signal: what the end of the grace period would do, now.
        releaseRunning: () => {
          for (const entry of this.#running.values()) entry.abort(new AbortReason("shutdown", "The worker is shutting down"));
        },
        logger: this.#logger,
      };
      joinSignals(this.#signalMember);
    }
    this.#logger.info({ types: this.#types, queues: this.#queues, concurrency: this.#concurrency }, "worker started");
    this.emit("worker:started", { workerId: this.id });
  }

  async #stop(timeoutMs: number): Promise<void> {
    await this.#startPromise?.catch(() => {});
    if (this.#state === "stopped" || this.#state === "new") {
      this.#state = "stopped";
      if (this.#handle.owned && !this.#startPromise) await this.#handle.pool.end().catch(() => {});
      return;
    }
    this.#state = "stopping";
    this.#pruner.stop();
    // stop() returns the stop in flight, this one: a signal that comes while
    // it runs waits for it before the process exits.
    if (this.#signalMember) leaveSignalsWhen(this.#signalMember, this.stop());
    this.#waker.wake(false);
    await this.#loop;
    // Claimed but never started: back to the queue at once, no attempt spent.
    await this.#holdTicker.stop();
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const { job } of buffered) {
      void this.#snoozes.push(job, 0).then(
        (outcome) => this.#announce(job, "abandon", outcome, undefined, 0, undefined),
        () => {},
      );
    }
    if (!(await this.#allFinished(timeoutMs))) {
      this.#logger.warn({ jobs: [...this.#running.keys()] }, "shutdown grace period passed: releasing running jobs");
      for (const entry of this.#running.values()) {
        entry.abort(new AbortReason("shutdown", "The worker is shutting down"));
      }
      await this.#allFinished(Infinity);
    }
    await this.#heartbeat.stop();
    await this.#rescueTicker.stop();
    await this.#pruneTicker?.stop();
    await this.#scheduleTicker?.stop();
    await this.#firstSchedule;
    await Promise.all([this.#completes.close(), this.#fails.close(), this.#snoozes.close(), this.#starts.close()]);
    await this.#notifier?.close();
    if (this.#handle.owned) await this.#handle.pool.end().catch(() => {});
    this.#state = "stopped";
    this.#logger.info({}, "worker stopped");
    this.emit("worker:stopped", { workerId: this.id });
  }

  /** Resolves true when no handler is running, or false after `timeoutMs`. */
  #allFinished(timeoutMs: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => resolve(false), timeoutMs) : undefined;
      this.#drained = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  async #claimLoop(): Promise<void> {
    let failures = 0;
    while (this.#state === "running") {
      const free = this.#concurrency - this.#running.size;
      const ahead = this.#slotsStuck ? 0 : this.#prefetch.target();
      const want = free + ahead - this.#buffer.length;
      // Claim when a slot is free, or when the buffer ran below half its target.
      if (this.#waker.wanted && want > 0 && (free > 0 || this.#buffer.length * 2 < ahead)) {
        this.#waker.wanted = false;
        let rows: any[];
        // The hold is counted from before the claim was sent: the server's
        // deadline is never earlier than this one.
        const sentAt = performance.now();
        try {
          const start = Math.max(0, free);
          rows = await run(this.#handle.pool, this.#sql.claim, [this.#queues, this.#types, want, start, this.id, this.#leaseMs, this.#holdMs], true);
          failures = 0;
        } catch (error) {
          failures++;
          this.#report(error as Error, "claiming jobs");
          this.#waker.wanted = true;
          await this.#waker.sleep(Math.min(10_000, 100 * 2 ** failures) * (0.5 + Math.random() / 2));
          continue;
        }
        const buffered = this.#buffer.length;
        const releaseAt = sentAt + this.#holdMs / 2;
        for (const row of rows) {
          const job = jobFromRow(row);
          if (row.trace_context !== null) rememberProducer(job, row.trace_context);
          // The claim started the first `start` jobs (they hold the full
          // lease); the rest wait in the buffer. When a stop began while the
          // claim was out, every job goes to the buffer, which stop releases.
          if (job.startedAt !== null && this.#state === "running") this.#startJob(job, false);
          else this.#buffer.push({ job, releaseAt });
        }
        // Rows come in claim order. A later claim can bring jobs of higher
        // priority than some still buffered from an earlier one: they go first
        // (the sort is stable, so claim order holds within a priority).
        if (buffered > 0 && rows.length > 0) this.#buffer.sort(byPriority);
        this.#fillSlots();
        // A full batch means there may be more waiting.
        if (rows.length === want) this.#waker.wanted = true;
        continue;
      }
      await this.#waker.wait();
    }
  }

  /** Starts buffered jobs in the free slots; one that waited too long goes back instead. */
  #fillSlots(): void {
    while (this.#running.size < this.#concurrency && this.#buffer.length > 0 && this.#state === "running") {
      const held = this.#buffer.shift()!;
      if (performance.now() >= held.releaseAt) this.#release([held.job]);
      else this.#startJob(held.job, true);
    }
  }

  /** Puts buffered jobs that waited too long for a slot back to the queue, so that other workers can take them. */
  #releaseStale(): void {
    const now = performance.now();
    if (this.#buffer.length === 0 || this.#buffer.every((h) => h.releaseAt > now)) return;
    const stale = this.#buffer.filter((h) => h.releaseAt <= now);
    this.#buffer = this.#buffer.filter((h) => h.releaseAt > now);
    this.#slotsStuck = true;
    this.#release(stale.map((h) => h.job));
  }

  /** Back to `queued` without spending an attempt: the handlers of these jobs never started here. */
  #release(jobs: Job[]): void {
    this.#logger.debug({ jobs: jobs.map((j) => j.id) }, "releasing buffered jobs that waited too long for a slot");
    for (const job of jobs) void this.#snoozes.push(job, 0).catch(() => {});
  }

  /**
   * Runs a claimed job in a free slot. A job from the buffer was claimed
   * under the short hold: its start is marked in the database (in batches,
   * without waiting), which also gives it the full lease; a crash before the
   * mark is written puts it back unspent, which the rescuer bounds.
   */
  #startJob(job: Job, held: boolean): void {
    // An older attempt of this job may still run here: its lease passed (say,
    // heartbeats did not get through), it was rescued, and this worker claimed
    // it again. That attempt lost its lease.
    const older = this.#running.get(job.id);
    if (older) this.#leaseLost(older);
    const entry = new Attempt(job);
    this.#running.set(job.id, entry);
    if (held) {
      job.startedAt = new Date();
      void this.#starts.push(job, null).then(
        (outcome) => {
          if (outcome.kind === "lost" && this.#running.get(job.id) === entry) this.#leaseLost(entry);
        },
        () => {},
      );
    }
    if (this.listens("job:started")) this.emit("job:started", { job });
    void this.#runJob(entry);
  }

  /**
   * Runs one attempt and records its outcome. Nothing on this path may leave
   * the attempt hanging: the promise is not awaited, so a throw here would be
   * an unhandled rejection (a crash, by default) and would leave the row
   * `running`, its lease heartbeated, its slot taken and stop() waiting for
   * ever. execute() and the tracing wrapper do not throw, the logger swallows
   * its own failures and emit() its listeners'; the catches here are the last
   * resort for whatever still does: the slot comes back and the attempt fails.
   */
  async #runJob(entry: Attempt): Promise<void> {
    const job = entry.job;
    const spec = this.#handlers.get(job.type)!;
    let verdict: Verdict;
    try {
      verdict = tracingOn()
        ? await traceExecution(job, job.attempts, () => execute(entry, spec, this.#context(entry)), (v) => (v.kind === "fail" ? v.error : undefined))
        : await execute(entry, spec, this.#context(entry));
    } catch (thrown) {
      verdict = { kind: "fail", error: coerceError(thrown), permanent: false };
    }
    const durationMs = performance.now() - entry.startedAt;
    this.#freeSlot(entry, durationMs);
    let write: Promise<Outcome> | undefined;
    let error: Error | undefined;
    try {
      ({ write, error } = this.#record(job, spec, verdict, entry));
    } catch (thrown) {
      // Record a failure that cannot itself fail to build.
      error = new Error(`The attempt could not be recorded as it ended: ${coerceError(thrown).message}`);
      verdict = { kind: "fail", error, permanent: false };
      write = this.#fails.push(job, { message: storableFailure(error.message), stack: null, delayMs: retryDelayMs(failureNumber(job), spec.backoff), permanent: false });
    }
    if (!write) return;
    let outcome: Outcome;
    try {
      outcome = await write;
    } catch (failure) {
      this.#logger.error({ jobId: job.id, error: coerceError(failure).message }, "could not record the job's outcome; its lease will pass and it will be rescued");
      return;
    }
    try {
      this.#announce(job, verdict.kind, outcome, error, durationMs, verdict.kind === "complete" ? verdict.result : undefined);
    } catch (failure) {
      // The outcome is written; only its announcement is lost.
      this.#report(coerceError(failure), "announcing a job's outcome");
    }
  }

  /**
   * Gives a finished attempt's slot back and starts buffered jobs in it. The
   * drain hook (stop() waits on it) and the wake-up run whatever starting
   * those jobs throws.
   */
  #freeSlot(entry: Attempt, durationMs: number): void {
    const job = entry.job;
    // Only this attempt's own entry: a newer attempt of the job may have taken its place.
    if (this.#running.get(job.id) === entry) this.#running.delete(job.id);
    try {
      this.#prefetch.observe(durationMs);
      this.#slotsStuck = false;
      this.#fillSlots();
    } catch (failure) {
      this.#report(coerceError(failure), "starting buffered jobs");
    } finally {
      if (this.#running.size === 0) this.#drained?.();
      this.#waker.wake(false);
    }
  }

  /** Queues the write that records a verdict; none for an attempt cut off by a lost lease. */
  #record(job: Job, spec: ResolvedHandler, verdict: Verdict, entry: Attempt): { write: Promise<Outcome> | undefined; error: Error | undefined } {
    switch (verdict.kind) {
      case "complete":
        return { write: this.#completes.push(job, verdict.result), error: undefined };
      case "fail": {
        const error = verdict.error;
        const write = this.#fails.push(job, {
          ...failureText(error),
          delayMs: retryDelayMs(failureNumber(job), spec.backoff),
          permanent: verdict.permanent,
        });
        return { write, error };
      }
      case "snooze":
        return { write: this.#snoozes.push(job, verdict.delayMs), error: undefined };
      case "abandon":
        return { write: entry.reason?.why === "shutdown" ? this.#snoozes.push(job, 0) : undefined, error: undefined };
    }
  }

  #announce(job: Job, kind: string, outcome: Outcome, error: Error | undefined, durationMs: number, result: string | null | undefined): void {
    switch (outcome.kind) {
      case "lost":
        this.#logger.warn({ jobId: job.id, attempt: job.attempts }, "lease lost before the outcome was written; discarded");
        this.emit("job:lease-lost", { job });
        return;
      case "succeeded":
        this.#logger.debug({ jobId: job.id, type: job.type, durationMs }, "job succeeded");
        if (this.listens("job:succeeded")) this.emit("job:succeeded", { job, result: result ? JSON.parse(result) : null, durationMs });
        return;
      case "failed":
        this.#logger.warn({ jobId: job.id, type: job.type, attempt: job.attempts, retryAt: outcome.runAt, error: error?.message }, "job failed; will retry");
        this.emit("job:failed", { job, error: error!, retryAt: outcome.runAt, durationMs });
        return;
      case "dead":
        this.#logger.error({ jobId: job.id, type: job.type, attempt: job.attempts, error: error?.message }, "job is dead");
        this.emit("job:dead", { job, error: error!, durationMs });
        return;
      case "snoozed":
        if (kind === "abandon") this.emit("job:released", { job });
        else this.emit("job:snoozed", { job, runAt: outcome.runAt });
        return;
    }
  }

  /** The handler's context. The signal and the scoped logger are made only if the handler reads them. */
  #context(entry: Attempt): JobContext {
    const job = entry.job;
    const parent = this.#logger;
    let logger: Logger | undefined;
    return {
      job,
      attempt: job.attempts,
      workerId: this.id,
      get signal() {
        return entry.signal;
      },
      get logger() {
        return (logger ??= scopeLogger(parent, { jobId: job.id, type: job.type, attempt: job.attempts }));
      },
      heartbeat: () => this.#heartbeatOne(entry),
      snooze,
    };
  }

  /** `ctx.heartbeat()`: extends one job's lease now. */
  async #heartbeatOne(entry: Attempt): Promise<void> {
    const job = entry.job;
    if (entry.reason) throw entry.reason;
    const rows = await run(this.#handle.pool, this.#sql.heartbeat, [[job.id], [job.attempts], this.id, this.#leaseMs], true);
    if (rows.length === 0 && this.#running.get(job.id) === entry) this.#leaseLost(entry);
    if (entry.reason) throw entry.reason;
  }

  /**
   * Extends the lease of every job running here, in one statement; aborts
   * jobs whose lease is gone. Buffered jobs are not extended: they start or
   * go back within their hold.
   */
  async #beat(): Promise<void> {
    const entries = [...this.#running.values()];
    if (entries.length === 0) return;
    try {
      const jobs = entries.map((e) => e.job);
      const rows = await run(this.#handle.pool, this.#sql.heartbeat, [jobs.map((j) => j.id), jobs.map((j) => j.attempts), this.id, this.#leaseMs], true);
      const held = new Set(rows.map((r) => r.id as string));
      for (const entry of entries) {
        // Only a job still running here can have lost its lease; one that
        // finished meanwhile may simply have been written already.
        if (!held.has(entry.job.id) && this.#running.get(entry.job.id) === entry) this.#leaseLost(entry);
      }
    } catch (error) {
      this.#report(error as Error, "extending leases");
    }
  }

  #leaseLost(entry: Attempt): void {
    if (entry.reason) return;
    this.#logger.warn({ jobId: entry.job.id, attempt: entry.job.attempts }, "lease lost: aborting the handler");
    entry.abort(new AbortReason("lease-lost", "This worker lost the job's lease; another worker may run it"));
    this.emit("job:lease-lost", { job: entry.job });
  }

  async #rescue(): Promise<void> {
    try {
      const result = await this.#rescuer.runOnce();
      if (result.count > 0) {
        this.#logger.warn({ count: result.count, dead: result.dead }, "rescued jobs whose lease had passed");
        this.emit("jobs:rescued", result);
        this.#waker.wake(true);
      }
    } catch (error) {
      this.#report(error as Error, "rescuing expired leases");
    }
  }

  async #prune(): Promise<void> {
    try {
      const result = await this.#pruner.runOnce();
      if (result.deleted > 0) {
        this.#logger.info({ ...result }, "deleted finished jobs past their retention age");
        this.emit("jobs:pruned", result);
      }
    } catch (error) {
      this.#report(error as Error, "deleting finished jobs");
    }
  }

  async #schedule(): Promise<void> {
    try {
      const result = await this.#scheduler.runOnce();
      if (result.enqueued > 0) {
        this.#logger.info({ ...result }, "enqueued the jobs of due schedule ticks");
        this.emit("jobs:scheduled", result);
      }
    } catch (error) {
      this.#report(error as Error, "enqueueing scheduled jobs");
    }
  }

  #report(error: Error, during: string): void {
    this.#logger.error({ error: error.message, during }, `error while ${during}`);
    this.emit("worker:error", { workerId: this.id, error, during });
  }

  protected override listenerFailed(event: string, error: unknown): void {
    this.#logger.error({ event, error: coerceError(error).message }, "an event listener threw");
  }
}
