import { coerceError } from "../errors.js";
import type { Logger } from "../logger.js";
import { jobHeartbeat } from "../sql/jobHeartbeat.js";
import { jobProgress } from "../sql/jobProgress.js";
import type { Sql } from "../sql/query.js";
import type { Job } from "../types.js";
import { AbortReason, Attempt } from "../worker/attempt.js";
import { failureNumber, retryDelayMs } from "../worker/backoff.js";
import { cancelWriter, completeWriter, failWriter, snoozeWriter, type Outcome } from "../worker/completer.js";
import { jobContext } from "../worker/context.js";
import { execute, failureText, type ResolvedHandler, type Verdict } from "../worker/executor.js";
import { progressText } from "../worker/progress.js";

/**
 * What became of one run of a job in `drain` or `runJob`:
 * - `succeeded`: the handler returned; `result` is the value stored.
 * - `failed`: the attempt failed and the job will retry at `runAt`.
 * - `dead`: the attempt failed for good (attempts used up, `PermanentJobError`,
 *   or a payload its schema refuses).
 * - `snoozed`: the handler snoozed; the job runs again at `runAt`, no attempt spent.
 * - `canceled`: `queue.cancel()` was called on the job while it ran (its
 *   handler's outcome then ends it `canceled`, see `Queue.cancel`).
 * - `lost`: nothing was written, because the job was no longer running under
 *   this run (another process changed it, or its lease passed and a worker
 *   rescued it).
 */
export type RunOutcome = "succeeded" | "failed" | "dead" | "snoozed" | "canceled" | "lost";

/** One run of a job's handler, as `drain` and `runJob` report it. */
export interface JobRun {
  /** The job as its handler saw it (`ctx.job`): status `running`, `attempts` counting this run. */
  job: Job;
  /** How the run ended: see {@link RunOutcome}. */
  outcome: RunOutcome;
  /** The handler's result as stored on the job (through JSON), when it succeeded. */
  result?: unknown;
  /** Why the attempt failed, when it `failed` or is `dead` (a timeout is a `TimeoutError`). */
  error?: Error;
  /** When the job runs next, when it `failed` or was `snoozed`. */
  runAt?: Date;
  /**
   * Every value the handler passed to `ctx.progress()`, in order. The last one
   * is also written to the job before its outcome, as a Worker leaves it.
   */
  progress: unknown[];
}

export interface InlineOptions {
  sql: Sql;
  channel: string;
  workerId: string;
  leaseMs: number;
  logger: Logger;
}

/**
 * Runs claimed jobs in this process, one at a time, through the Worker's own
 * pieces: `execute()` for the handler (payload schema, timeout, snooze,
 * result), `jobContext()` for its `ctx`, and the Worker's fenced writers for
 * the outcome, without their batching (each outcome is one statement,
 * awaited, and a failed write rejects instead of being retried). There is no
 * heartbeat timer: a run holds the lease it was claimed with, which
 * `ctx.heartbeat()` extends.
 */
export class InlineRunner {
  readonly #o: InlineOptions;

  constructor(options: InlineOptions) {
    this.#o = options;
  }

  /** Runs one claimed job and writes its outcome. */
  async run(job: Job, spec: ResolvedHandler): Promise<JobRun> {
    const o = this.#o;
    const entry = new Attempt(job);
    const progress: unknown[] = [];
    let latest: string | undefined;
    const leases = { extend: (e: Attempt) => this.#extend(e) };
    const reports = {
      report(e: Attempt, value: unknown) {
        const text = progressText(value);
        if (e.reason) return;
        progress.push(JSON.parse(text));
        latest = text;
      },
    };
    const ctx = jobContext(entry, o.workerId, o.logger, leases, reports);
    let verdict: Verdict;
    try {
      verdict = await execute(entry, spec, ctx);
    } catch (thrown) {
      verdict = { kind: "fail", error: coerceError(thrown), permanent: false };
    }
    if (latest !== undefined && !entry.reason) {
      await jobProgress(o.sql, { ids: [job.id], attempts: [job.attempts], values: [latest], workerId: o.workerId });
      job.progress = JSON.parse(latest);
    }
    const outcome = await this.#write(job, spec, verdict);
    return runOf(job, verdict, outcome, progress);
  }

  /** Puts a claimed job back to `queued` unrun, as a Worker releases a buffered job (no attempt spent). */
  async release(job: Job): Promise<void> {
    await snoozeWriter(this.#o.sql, this.#o.workerId, this.#o.channel).write([{ job, data: 0 }], false);
  }

  /** The same writes `Outcomes.record` queues, one statement each. */
  async #write(job: Job, spec: ResolvedHandler, verdict: Verdict): Promise<Outcome> {
    const { sql, workerId, channel } = this.#o;
    let outcomes: Map<string, Outcome>;
    switch (verdict.kind) {
      case "complete":
        outcomes = await completeWriter(sql, workerId).write([{ job, data: verdict.result }], false);
        break;
      case "fail": {
        const data = { ...failureText(verdict.error), delayMs: retryDelayMs(failureNumber(job), spec.backoff), permanent: verdict.permanent };
        outcomes = await failWriter(sql, workerId).write([{ job, data }], false);
        break;
      }
      case "snooze":
        outcomes = await snoozeWriter(sql, workerId, channel).write([{ job, data: verdict.delayMs }], false);
        break;
      case "abandon":
        // Only a lost lease cuts a run off here (nothing shuts down): nothing to write.
        return { kind: "lost" };
      case "cancel":
        outcomes = await cancelWriter(sql, workerId).write([{ job, data: null }], false);
        break;
    }
    return outcomes.get(job.id) ?? { kind: "lost" };
  }

  /** `ctx.heartbeat()`: extends the lease, or cuts the run off when it was lost (as `Leases.extend` does). */
  async #extend(entry: Attempt): Promise<void> {
    if (entry.reason) throw entry.reason;
    const { sql, workerId, leaseMs } = this.#o;
    const job = entry.job;
    const rows = await jobHeartbeat(sql, { ids: [job.id], attempts: [job.attempts], workerId, leaseMs });
    if (rows.length === 0) {
      entry.abort(new AbortReason("lease-lost", "This run lost the job's lease; a worker may run it"));
      throw entry.reason;
    }
  }
}

function runOf(job: Job, verdict: Verdict, outcome: Outcome, progress: unknown[]): JobRun {
  switch (outcome.kind) {
    case "succeeded":
      return { job, outcome: "succeeded", result: verdict.kind === "complete" && verdict.result !== null ? JSON.parse(verdict.result) : null, progress };
    case "failed":
      return { job, outcome: "failed", error: errorOf(verdict), runAt: outcome.runAt, progress };
    case "dead":
      return { job, outcome: "dead", error: errorOf(verdict), progress };
    case "snoozed":
      return { job, outcome: "snoozed", runAt: outcome.runAt, progress };
    case "canceled":
      return { job, outcome: "canceled", progress };
    default:
      return { job, outcome: "lost", progress };
  }
}

const errorOf = (verdict: Verdict): Error | undefined => (verdict.kind === "fail" ? verdict.error : undefined);
