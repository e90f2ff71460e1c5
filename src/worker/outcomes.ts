import { coerceError } from "../errors.js";
import type { WorkerEvents } from "../events.js";
import type { Logger } from "../logger.js";
import type { Sql } from "../sql/query.js";
import type { Job } from "../types.js";
import type { AbortReason } from "./attempt.js";
import { failureNumber, retryDelayMs } from "./backoff.js";
import { Batcher, cancelWriter, completeWriter, failWriter, snoozeWriter, type FailData, type Outcome } from "./completer.js";
import { failureText, storableFailure, type ResolvedHandler, type Verdict } from "./executor.js";

type Emit = <K extends keyof WorkerEvents>(event: K, data: WorkerEvents[K]) => void;

export interface OutcomesOptions {
  sql: Sql;
  workerId: string;
  channel: string;
  logger: Logger;
  emit: Emit;
  /** Whether anyone listens to an event (hot paths skip building its data). */
  listens(event: keyof WorkerEvents): boolean;
  report(error: Error, doing: string): void;
}

/** What ended an attempt, as recorded: the write in flight, and the error a failure reports. */
export interface Recorded {
  write: Promise<Outcome> | undefined;
  error: Error | undefined;
}

/**
 * Records how attempts ended: successes, failures and snoozes each go to
 * their own batcher (a lone write goes at once; writes arriving meanwhile go
 * together in the next statement), fenced on the attempt, and what the
 * database made of each is logged and emitted.
 */
export class Outcomes {
  readonly #o: OutcomesOptions;
  readonly #completes: Batcher<string | null>;
  readonly #fails: Batcher<FailData>;
  readonly #snoozes: Batcher<number>;
  readonly #cancels: Batcher<null>;

  constructor(options: OutcomesOptions) {
    this.#o = options;
    const onError = (error: Error) => options.report(error, "writing job outcomes");
    this.#completes = new Batcher(completeWriter(options.sql, options.workerId), onError);
    this.#fails = new Batcher(failWriter(options.sql, options.workerId), onError);
    this.#snoozes = new Batcher(snoozeWriter(options.sql, options.workerId, options.channel), onError);
    this.#cancels = new Batcher(cancelWriter(options.sql, options.workerId), onError);
  }

  /**
   * Records how an attempt ended and announces what the database made of it.
   * Never rejects: a verdict that cannot be recorded as it is becomes a
   * failure; a write that fails for good leaves the lease to pass (the job is
   * rescued); an announcement that throws is reported.
   */
  async settle(job: Job, spec: ResolvedHandler, verdict: Verdict, reason: AbortReason | undefined, durationMs: number): Promise<void> {
    let write: Promise<Outcome> | undefined;
    let error: Error | undefined;
    try {
      ({ write, error } = this.record(job, spec, verdict, reason));
    } catch (thrown) {
      error = new Error(`The attempt could not be recorded as it ended: ${coerceError(thrown).message}`);
      verdict = { kind: "fail", error, permanent: false };
      write = this.#fails.push(job, { message: storableFailure(error.message), stack: null, delayMs: retryDelayMs(failureNumber(job), spec.backoff), permanent: false });
    }
    if (!write) return;
    let outcome: Outcome;
    try {
      outcome = await write;
    } catch (failure) {
      this.#o.logger.error({ jobId: job.id, error: coerceError(failure).message }, "could not record the job's outcome; its lease will pass and it will be rescued");
      return;
    }
    try {
      this.announce(job, verdict.kind, outcome, error, durationMs, verdict.kind === "complete" ? verdict.result : undefined);
    } catch (failure) {
      // The outcome is written; only its announcement is lost.
      this.#o.report(coerceError(failure), "announcing a job's outcome");
    }
  }

  /** Queues the write that records a verdict; none for an attempt cut off by a lost lease. */
  record(job: Job, spec: ResolvedHandler, verdict: Verdict, reason: AbortReason | undefined): Recorded {
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
        return { write: reason?.why === "shutdown" ? this.#snoozes.push(job, 0) : undefined, error: undefined };
      case "cancel":
        return { write: this.#cancels.push(job, null), error: undefined };
    }
  }

  /** `canceled`: a job whose cancel was requested before its handler started (it waited in the buffer). */
  cancel(job: Job): Promise<Outcome> {
    return this.#cancels.push(job, null);
  }

  /** Back to `queued` without spending an attempt: a job whose handler never started, or was cut off by shutdown. */
  release(job: Job): Promise<Outcome> {
    return this.#snoozes.push(job, 0);
  }

  /** Logs and emits what the database made of an attempt's outcome. */
  announce(job: Job, kind: Verdict["kind"], outcome: Outcome, error: Error | undefined, durationMs: number, result: string | null | undefined): void {
    const { logger, emit } = this.#o;
    switch (outcome.kind) {
      case "lost":
        logger.warn({ jobId: job.id, attempt: job.attempts }, "lease lost before the outcome was written; discarded");
        emit("job:lease-lost", { job });
        return;
      case "succeeded":
        logger.debug({ jobId: job.id, type: job.type, durationMs }, "job succeeded");
        if (this.#o.listens("job:succeeded")) emit("job:succeeded", { job, result: result ? JSON.parse(result) : null, durationMs });
        return;
      case "failed":
        logger.warn({ jobId: job.id, type: job.type, attempt: job.attempts, retryAt: outcome.runAt, error: error?.message }, "job failed; will retry");
        emit("job:failed", { job, error: error!, retryAt: outcome.runAt, durationMs });
        return;
      case "dead":
        logger.error({ jobId: job.id, type: job.type, attempt: job.attempts, error: error?.message }, "job is dead");
        emit("job:dead", { job, error: error!, durationMs });
        return;
      case "snoozed":
        if (kind === "abandon") emit("job:released", { job });
        else emit("job:snoozed", { job, runAt: outcome.runAt });
        return;
      case "canceled":
        logger.info({ jobId: job.id, type: job.type, attempt: job.attempts }, "job canceled");
        emit("job:canceled", { job });
        return;
      case "held":
        return;
    }
  }

  /** Writes what is pending; gives up on writes that keep failing (their leases pass and the rescuer takes them). */
  async close(): Promise<void> {
    await Promise.all([this.#completes.close(), this.#fails.close(), this.#snoozes.close(), this.#cancels.close()]);
  }
}

