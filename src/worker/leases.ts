import { coerceError } from "../errors.js";
import { jobExtend } from "../sql/jobExtend.js";
import type { Sql } from "../sql/query.js";
import { Ticker } from "../ticker.js";
import type { Attempt } from "./attempt.js";
import { Batcher, inIdOrder, startWriter } from "./completer.js";

export interface LeasesOptions {
  sql: Sql;
  workerId: string;
  leaseMs: number;
  /** How often every running job's lease is extended. */
  heartbeatIntervalMs: number;
  /**
   * How long a start mark may wait (well inside the hold of a buffered job):
   * a job that finishes sooner needs no mark, since its outcome records the
   * start.
   */
  markDelayMs: number;
  /** The attempts running now, by job id. */
  running: ReadonlyMap<string, Attempt>;
  /** This worker no longer holds the job of a running attempt. */
  lost(entry: Attempt): void;
  /** The job of a running attempt had its cancel requested. */
  canceled(entry: Attempt): void;
  report(error: Error, doing: string): void;
}

/**
 * The leases of the jobs running here: one heartbeat statement extends them
 * all every `heartbeatIntervalMs`; `ctx.heartbeat()` extends one now; a job
 * started from the buffer gets its start marked (which also gives it the full
 * lease) in batches. A job missing from what a heartbeat or a start mark
 * changed has lost its lease: another worker may run it, so its handler is
 * told (`lost`).
 */
export class Leases {
  readonly #o: LeasesOptions;
  readonly #heartbeat: Ticker;
  /** Marks that held jobs started: their lease goes from the short hold to the full lease. */
  readonly #starts: Batcher<null>;
  /** Started held jobs whose mark waits for the next flush. */
  readonly #pendingMarks = new Set<Attempt>();
  #markTimer: NodeJS.Timeout | undefined;

  constructor(options: LeasesOptions) {
    this.#o = options;
    this.#heartbeat = new Ticker(options.heartbeatIntervalMs, () => this.#beat());
    this.#starts = new Batcher(startWriter(options.sql, options.workerId, options.leaseMs), (error) => options.report(error, "writing job outcomes"));
  }

  start(): void {
    this.#heartbeat.start();
  }

  /** Stops the heartbeat (once no job runs) and writes the start marks in flight. */
  async stop(): Promise<void> {
    clearTimeout(this.#markTimer);
    this.#pendingMarks.clear();
    await this.#heartbeat.stop();
    await this.#starts.close();
  }

  /**
   * Marks that a job held in the buffer started, without making its handler
   * wait. Marks go out together at most `markDelayMs` later, and only for jobs
   * still running then: a short job's outcome records its start instead, so
   * it costs no write of its own. A crash before the mark is written puts the
   * job back unspent, which the rescuer bounds.
   */
  markStarted(entry: Attempt): void {
    this.#pendingMarks.add(entry);
    if (this.#markTimer) return;
    this.#markTimer = setTimeout(() => this.#flushMarks(), this.#o.markDelayMs);
    this.#markTimer.unref();
  }

  #flushMarks(): void {
    this.#markTimer = undefined;
    const entries = [...this.#pendingMarks];
    this.#pendingMarks.clear();
    for (const entry of entries) {
      if (this.#o.running.get(entry.job.id) !== entry) continue;
      void this.#starts.push(entry.job, null).then(
        (outcome) => {
          if (outcome.kind === "lost") this.#lostIfRunning(entry);
        },
        () => {},
      );
    }
  }

  /** `ctx.heartbeat()`: extends one job's lease now; throws the abort reason once the attempt is cut off. */
  async extend(entry: Attempt): Promise<void> {
    if (entry.reason) throw entry.reason;
    const job = entry.job;
    const rows = await jobExtend(this.#o.sql, { ids: [job.id], attempts: [job.attempts], workerId: this.#o.workerId, leaseMs: this.#o.leaseMs });
    if (rows.length === 0) this.#lostIfRunning(entry);
    else if (rows[0]!.cancel) this.#canceledIfRunning(entry);
    if (entry.reason) throw entry.reason;
  }

  /**
   * Extends the lease of every job running here, in one statement. Buffered
   * jobs are not extended: they start or go back within their hold.
   */
  async #beat(): Promise<void> {
    // In id order, as every batch write (see `inIdOrder`).
    const entries = inIdOrder([...this.#o.running.values()]);
    if (entries.length === 0) return;
    try {
      const jobs = entries.map((e) => e.job);
      const rows = await jobExtend(this.#o.sql, {
        ids: jobs.map((j) => j.id),
        attempts: jobs.map((j) => j.attempts),
        workerId: this.#o.workerId,
        leaseMs: this.#o.leaseMs,
      });
      const held = new Map(rows.map((r) => [r.id, r.cancel]));
      for (const entry of entries) {
        const cancel = held.get(entry.job.id);
        if (cancel === undefined) this.#lostIfRunning(entry);
        else if (cancel) this.#canceledIfRunning(entry);
      }
    } catch (error) {
      this.#o.report(coerceError(error), "extending leases");
    }
  }

  /**
   * Extends every lease now, outside the timer: after the LISTEN connection
   * came back, so that a cancel requested meanwhile is found at once.
   */
  async beatNow(): Promise<void> {
    await this.#beat();
  }

  #canceledIfRunning(entry: Attempt): void {
    if (this.#o.running.get(entry.job.id) === entry) this.#o.canceled(entry);
  }

  /** Only an attempt still running here can have lost its lease; one that finished meanwhile may simply have been written already. */
  #lostIfRunning(entry: Attempt): void {
    if (this.#o.running.get(entry.job.id) === entry) this.#o.lost(entry);
  }
}
