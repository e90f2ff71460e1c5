import { coerceError } from "../errors.js";
import type { Logger } from "../logger.js";
import { jobClaim } from "../sql/jobClaim.js";
import { jobFromRow } from "../sql/jobRow.js";
import type { Sql } from "../sql/query.js";
import { Ticker } from "../ticker.js";
import { rememberProducer } from "../tracing.js";
import type { Job } from "../types.js";
import { Prefetch } from "./prefetch.js";
import type { Waker } from "./waker.js";

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
export const MAX_HOLD_MS = 5000;

/** Claims out at once while a backlog lasts. */
const MAX_IN_FLIGHT = 2;
/** The smallest buffer target at which a second claim goes out before the first lands. */
const PIPELINE_MIN = 30;

export interface ClaimerOptions {
  sql: Sql;
  /** Named queues to claim from; null for all. */
  queues: readonly string[] | null;
  types: readonly string[];
  workerId: string;
  leaseMs: number;
  concurrency: number;
  waker: Waker;
  logger: Logger;
  /** Handlers running now. */
  running(): number;
  /** Runs a claimed job in a free slot; `held` when it waited in the buffer, unstarted. */
  start(job: Job, held: boolean): void;
  /** Puts claimed jobs that never started back to `queued`, no attempt spent. */
  release(jobs: Job[]): void;
  report(error: Error, doing: string): void;
}

/**
 * The claim loop and the buffer of claimed jobs (graphile-worker calls its
 * version LocalQueue). It claims in batches for the free slots plus a
 * prefetch sized by the handlers' measured duration (see `Prefetch`); the
 * jobs beyond the free slots wait in the buffer, claimed under a short hold
 * that heartbeats do not extend, and start as slots free. A buffered job that
 * waits half its hold goes back for other workers, and the claimer then
 * claims nothing ahead until a slot frees.
 */
export class Claimer {
  readonly #o: ClaimerOptions;
  /** The lease of a buffered job, unstarted: short, so a dead worker's buffer comes back soon. */
  readonly holdMs: number;
  readonly #prefetch: Prefetch;
  readonly #holdTicker: Ticker;
  #buffer: Held[] = [];
  /**
   * Buffered jobs waited out their hold: every slot is taken by jobs that run
   * longer than the buffer assumed. No claims ahead until a slot frees, or the
   * worker would claim, hold and put back the same jobs over and over.
   */
  #slotsStuck = false;
  #stopping = false;
  #loop: Promise<void> | undefined;
  /** Claims sent and not landed yet. */
  #inFlight = 0;
  /** Jobs the claims in flight may bring to the buffer (their limits beyond the jobs they start). */
  #requested = 0;
  /** Settles when the last claim sent has landed (never rejects). */
  #landing: Promise<void> = Promise.resolve();
  /** The last claim came back full: more jobs are waiting. */
  #backlog = false;
  /**
   * The last claim started a job in every free slot it asked for, though it
   * did not fill the buffer. Limited queues (docs/flow-control.md) give jobs
   * to free slots only, so for them such a claim is as full as a claim can
   * be: the next free slot claims again rather than waiting to be woken.
   */
  #slotsFilled = false;
  #failures = 0;
  /** After a failed claim, no claim before this time (performance.now). */
  #retryAt = 0;
  /** Wakes the loop when a rate limit that held back the last claim has room again. */
  #rateTimer: NodeJS.Timeout | undefined;
  #rateAt = Infinity;

  constructor(options: ClaimerOptions) {
    this.#o = options;
    this.holdMs = Math.min(options.leaseMs, MAX_HOLD_MS);
    this.#prefetch = new Prefetch(options.concurrency);
    this.#holdTicker = new Ticker(Math.max(100, Math.floor(this.holdMs / 4)), async () => this.#releaseStale());
  }

  /** Starts the claim loop. */
  start(): void {
    this.#holdTicker.start();
    this.#loop = this.#run();
  }

  /**
   * Ends the claim loop (a claim in flight lands first) and returns the
   * buffered jobs, which never started here: the caller puts them back.
   */
  async stop(): Promise<Job[]> {
    this.#stopping = true;
    clearTimeout(this.#rateTimer);
    this.#o.waker.wake(false);
    await this.#loop;
    await this.#holdTicker.stop();
    const jobs = this.#buffer.map((h) => h.job);
    this.#buffer = [];
    return jobs;
  }

  /** Takes a job out of the buffer (its cancel was requested before it started); undefined if it is not there. */
  takeBuffered(jobId: string): Job | undefined {
    const i = this.#buffer.findIndex((h) => h.job.id === jobId);
    if (i < 0) return undefined;
    return this.#buffer.splice(i, 1)[0]!.job;
  }

  /** A slot freed after a handler ran `durationMs`: buffered jobs start in it. */
  slotFreed(durationMs: number): void {
    this.#prefetch.observe(durationMs);
    this.#slotsStuck = false;
    this.#fillSlots();
  }

  /**
   * The claim loop. One claim goes out when a slot is free or the buffer ran
   * below half its target. While a backlog lasts (the last claim came back
   * full) and the buffer is deep (short jobs), a second claim goes out before
   * the first lands: a claim of a few hundred jobs takes longer to come back
   * than the worker takes to run them, and one claim at a time left the slots
   * idle for half of every round trip. Each claim then asks for a third of the
   * target; only the first of two starts jobs at once (the second's jobs all
   * wait in the buffer), and claims land in the order they were sent.
   */
  async #run(): Promise<void> {
    const o = this.#o;
    while (!this.#stopping) {
      const pause = this.#retryAt - performance.now();
      if (pause > 0 && this.#inFlight === 0) {
        await o.waker.sleep(pause);
        continue;
      }
      const claim = pause > 0 ? undefined : this.#next();
      if (claim) {
        this.#send(claim.limit, claim.start);
        continue;
      }
      await o.waker.wait();
    }
    await this.#landing;
  }

  /** The next claim to send now, if one is due: how many jobs, and how many of them start at once. */
  #next(): { limit: number; start: number } | undefined {
    const o = this.#o;
    const ahead = this.#slotsStuck ? 0 : this.#prefetch.target();
    if (this.#inFlight === 0) {
      const free = o.concurrency - o.running();
      if (!o.waker.wanted && !(this.#slotsFilled && free > 0)) return undefined;
      const want = free + ahead - this.#buffer.length;
      // Claim when a slot is free, or when the buffer ran below half its target.
      if (want <= 0 || (free <= 0 && this.#buffer.length * 2 >= ahead)) return undefined;
      const start = Math.max(0, free);
      // With a backlog, the first of two claims takes its share only.
      const limit = this.#backlog && ahead >= PIPELINE_MIN && o.concurrency > 1 ? Math.min(want, start + Math.ceil(ahead / 3)) : want;
      o.waker.wanted = false;
      this.#slotsFilled = false;
      return { limit, start };
    }
    // A worker of one slot keeps one claim at a time: two claims can lock
    // their rows in either order, and such a worker runs jobs strictly in
    // claim order.
    if (this.#inFlight >= MAX_IN_FLIGHT || !this.#backlog || ahead < PIPELINE_MIN || o.concurrency < 2) return undefined;
    const chunk = Math.ceil(ahead / 3);
    if (this.#buffer.length + this.#requested > ahead - chunk) return undefined;
    return { limit: chunk, start: 0 };
  }

  /** Sends a claim; its jobs land after those of the claims sent before it. */
  #send(limit: number, start: number): void {
    const o = this.#o;
    this.#inFlight++;
    const ahead = limit - start;
    this.#requested += ahead;
    // The hold is counted from before the claim was sent: the server's
    // deadline is never earlier than this one.
    const sentAt = performance.now();
    const rows = jobClaim(o.sql, {
      queues: o.queues,
      types: o.types,
      limit,
      start,
      workerId: o.workerId,
      leaseMs: o.leaseMs,
      holdMs: this.holdMs,
    });
    const before = this.#landing;
    this.#landing = (async () => {
      let claimed: Awaited<typeof rows> | undefined;
      let failure: unknown;
      try {
        claimed = await rows;
      } catch (error) {
        failure = error;
      }
      await before;
      this.#inFlight--;
      this.#requested -= ahead;
      try {
        if (claimed) this.#land(claimed, limit, start, sentAt);
        else this.#failed(failure);
      } catch (error) {
        o.report(coerceError(error), "starting claimed jobs");
      }
      o.waker.wake(false);
    })();
  }

  /** A claim came back: its jobs start in free slots or wait in the buffer. */
  #land(rows: Awaited<ReturnType<typeof jobClaim>>, limit: number, start: number, sentAt: number): void {
    const o = this.#o;
    this.#failures = 0;
    this.#retryAt = 0;
    const buffered = this.#buffer.length;
    const releaseAt = sentAt + this.holdMs / 2;
    let started = 0;
    let jobs = 0;
    for (const row of rows) {
      if (row.id === null) {
        this.#wakeForRate(row.timeout_ms);
        continue;
      }
      jobs++;
      const job = jobFromRow(row);
      if (row.trace_context !== null) rememberProducer(job, row.trace_context);
      // The claim started the first `start` jobs (they hold the full
      // lease); the rest wait in the buffer. When a stop began while the
      // claim was out, every job goes to the buffer, which stop releases.
      if (job.startedAt !== null) started++;
      if (job.startedAt !== null && !this.#stopping) o.start(job, false);
      else this.#buffer.push({ job, releaseAt });
    }
    if (start > 0 && started === start) this.#slotsFilled = true;
    // Rows come in claim order. A later claim can bring jobs of higher
    // priority than some still buffered from an earlier one: they go first
    // (the sort is stable, so claim order holds within a priority).
    if (buffered > 0 && jobs > 0) this.#buffer.sort(byPriority);
    this.#fillSlots();
    // A full batch means there may be more waiting.
    this.#backlog = jobs === limit;
    if (this.#backlog) o.waker.wanted = true;
  }

  /**
   * A rate limit left free slots unfilled and has room again in `ms`: claim
   * then (nothing else would say so). One timer, for the earliest.
   */
  #wakeForRate(ms: number): void {
    const at = performance.now() + ms;
    if (this.#stopping || at >= this.#rateAt) return;
    clearTimeout(this.#rateTimer);
    this.#rateAt = at;
    this.#rateTimer = setTimeout(() => {
      this.#rateAt = Infinity;
      this.#rateTimer = undefined;
      this.#o.waker.wake(true);
    }, ms);
    this.#rateTimer.unref();
  }

  /** A claim failed: report it and back off (exponentially, with jitter) before the next. */
  #failed(error: unknown): void {
    const o = this.#o;
    this.#failures++;
    this.#backlog = false;
    o.report(coerceError(error), "claiming jobs");
    o.waker.wanted = true;
    this.#retryAt = performance.now() + Math.min(10_000, 100 * 2 ** this.#failures) * (0.5 + Math.random() / 2);
  }

  /** Starts buffered jobs in the free slots; one that waited too long goes back instead. */
  #fillSlots(): void {
    const o = this.#o;
    while (o.running() < o.concurrency && this.#buffer.length > 0 && !this.#stopping) {
      const held = this.#buffer.shift()!;
      if (performance.now() >= held.releaseAt) this.#release([held.job]);
      else o.start(held.job, true);
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

  #release(jobs: Job[]): void {
    this.#o.logger.debug({ jobs: jobs.map((j) => j.id) }, "releasing buffered jobs that waited too long for a slot");
    this.#o.release(jobs);
  }
}
