import { coerceError, DatabaseError } from "../errors.js";
import { jobCancelRunning } from "../sql/jobCancelRunning.js";
import { jobComplete, jobCompleted } from "../sql/jobComplete.js";
import { jobFail } from "../sql/jobFail.js";
import { jobHeartbeat } from "../sql/jobHeartbeat.js";
import { jobProgress } from "../sql/jobProgress.js";
import { jobSnooze } from "../sql/jobSnooze.js";
import type { Sql } from "../sql/query.js";
import type { Job } from "../types.js";

/** What became of a job once its outcome reached the database. */
export type Outcome =
  | { kind: "succeeded" }
  | { kind: "failed"; runAt: Date }
  | { kind: "dead" }
  | { kind: "snoozed"; runAt: Date }
  /** The lease was extended (a heartbeat, or the mark that a held job started). */
  | { kind: "held" }
  /** Canceled: its cancel was requested while it ran. */
  | { kind: "canceled" }
  /** The row was no longer running under this worker at this attempt: nothing was written. */
  | { kind: "lost" };

interface Pending<T> {
  job: Job;
  data: T;
  resolve(outcome: Outcome): void;
  reject(error: Error): void;
}

/** One kind of outcome write: how to turn a batch into a statement, and its rows into outcomes. */
export interface BatchWriter<T> {
  /**
   * Runs one statement for the batch; returns outcome by job id for the rows
   * that changed. `retried` says an earlier try of this batch failed, perhaps
   * after committing.
   */
  write(batch: ReadonlyArray<{ job: Job; data: T }>, retried: boolean): Promise<Map<string, Outcome>>;
}

/** Longest batch one statement carries. */
const MAX_BATCH = 1000;

/** SQLSTATE class 22, data exception: the statement's input is bad, and sending it again fails again. */
const DATA_EXCEPTION_CLASS = "22";

function isDataException(error: unknown): boolean {
  return error instanceof DatabaseError && error.sqlState?.startsWith(DATA_EXCEPTION_CLASS) === true;
}

/**
 * Coalesces outcome writes of one kind: a lone item is written at once; items
 * arriving while a write is in flight wait and go together in the next one.
 * A failed write is retried with backoff (the rows stay `running` meanwhile, but
 * their leases are not extended: if the database stays away longer than the
 * lease, the jobs are rescued and run again, which is at-least-once as promised)
 * until it succeeds or `close()` gives up on it. A write refused for bad data
 * (which no retry can fix) is split into single writes, and only the item
 * that fails alone is rejected.
 */
export class Batcher<T> {
  #queue: Pending<T>[] = [];
  #flushing: Promise<void> | undefined;
  #closing = false;
  readonly #writer: BatchWriter<T>;
  readonly #onError: (error: Error) => void;

  constructor(writer: BatchWriter<T>, onError: (error: Error) => void) {
    this.#writer = writer;
    this.#onError = onError;
  }

  push(job: Job, data: T): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.#queue.push({ job, data, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /** Resolves when everything pushed so far is written (or given up on, when closing). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /** Stops retrying failed writes: what cannot be written now is rejected (its leases will pass and be rescued). */
  async close(): Promise<void> {
    this.#closing = true;
    await this.drain();
  }

  async #flush(): Promise<void> {
    let failures = 0;
    // Items to write one at a time, after a batch failed on bad data: the one
    // bad item is then rejected alone instead of holding up the rest forever.
    let isolate = 0;
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, isolate > 0 ? 1 : MAX_BATCH);
      try {
        const outcomes = await this.#writer.write(batch, failures > 0);
        this.#queue.splice(0, batch.length);
        failures = 0;
        isolate = Math.max(0, isolate - batch.length);
        for (const item of batch) item.resolve(outcomes.get(item.job.id) ?? { kind: "lost" });
      } catch (error) {
        this.#onError(coerceError(error));
        if (isDataException(error)) {
          if (batch.length > 1) {
            isolate = batch.length;
          } else {
            this.#queue.splice(0, 1);
            isolate = Math.max(0, isolate - 1);
            batch[0]!.reject(coerceError(error));
          }
          continue;
        }
        failures++;
        if (this.#closing && failures >= 3) {
          this.#queue.splice(0, batch.length);
          for (const item of batch) item.reject(coerceError(error));
          continue;
        }
        await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** failures)));
      }
    }
    this.#flushing = undefined;
  }
}

export interface FailData {
  message: string;
  stack: string | null;
  delayMs: number;
  permanent: boolean;
}

/**
 * The batch in id order. A batch statement locks its rows in the order its
 * join yields them, which, depending on the plan, is the order of the ids it
 * is given. A worker writes start marks, heartbeats and outcomes on different
 * connections at once, and one job can be in two of those batches; in id
 * order, they wait on each other in one direction only, never in a cycle.
 */
export function inIdOrder<T extends { job: Job }>(batch: ReadonlyArray<T>): T[] {
  return [...batch].sort((a, b) => (a.job.id < b.job.id ? -1 : a.job.id > b.job.id ? 1 : 0));
}

const ids = (batch: ReadonlyArray<{ job: Job }>) => batch.map((b) => b.job.id);
const attempts = (batch: ReadonlyArray<{ job: Job }>) => batch.map((b) => b.job.attempts);

/**
 * Writes successes: one fenced UPDATE over the ids, attempts and results. On
 * a retry, ids the UPDATE did not match are looked up: the first try may have
 * committed before its connection dropped.
 */
export const completeWriter = (sql: Sql, workerId: string): BatchWriter<string | null> => ({
  async write(unordered, retried) {
    const batch = inIdOrder(unordered);
    const jobIds = ids(batch);
    const rows = await jobComplete(sql, { ids: jobIds, attempts: attempts(batch), results: batch.map((b) => b.data), workerId });
    const succeeded: Outcome = { kind: "succeeded" };
    const outcomes = new Map(rows.map((r) => [r.id, succeeded]));
    if (retried && outcomes.size < batch.length) {
      const claimed = new Map(batch.map((b) => [b.job.id, b.job.attempts]));
      for (const r of await jobCompleted(sql, { ids: jobIds })) {
        if (claimed.get(r.id) === r.attempts) outcomes.set(r.id, succeeded);
      }
    }
    return outcomes;
  },
});

/** Writes failures: to `failed` with a retry time, or to `dead`. */
export const failWriter = (sql: Sql, workerId: string): BatchWriter<FailData> => ({
  async write(unordered) {
    const batch = inIdOrder(unordered);
    const rows = await jobFail(sql, {
      ids: ids(batch),
      attempts: attempts(batch),
      messages: batch.map((b) => b.data.message),
      stacks: batch.map((b) => b.data.stack),
      delaysMs: batch.map((b) => b.data.delayMs),
      permanent: batch.map((b) => b.data.permanent),
      workerId,
    });
    // `canceled`: its cancel had been requested (see migrations/12_cancel_running.sql).
    const outcome = (r: (typeof rows)[number]): Outcome =>
      r.status === "dead" ? { kind: "dead" } : r.status === "canceled" ? { kind: "canceled" } : { kind: "failed", runAt: r.run_at };
    return new Map(rows.map((r): [string, Outcome] => [r.id, outcome(r)]));
  },
});

/**
 * Writes the marks that held jobs started: one heartbeat over the batch,
 * which sets `started_at` and extends each lease from the short hold to the
 * full lease.
 */
export const startWriter = (sql: Sql, workerId: string, leaseMs: number): BatchWriter<null> => ({
  async write(unordered) {
    const batch = inIdOrder(unordered);
    const rows = await jobHeartbeat(sql, { ids: ids(batch), attempts: attempts(batch), workerId, leaseMs });
    const held: Outcome = { kind: "held" };
    return new Map(rows.map((r) => [r.id, held]));
  },
});

/** Writes `canceled` for jobs whose cancel was requested and whose handler was cut off. */
export const cancelWriter = (sql: Sql, workerId: string): BatchWriter<null> => ({
  async write(unordered) {
    const batch = inIdOrder(unordered);
    const rows = await jobCancelRunning(sql, { ids: ids(batch), attempts: attempts(batch), workerId });
    const canceled: Outcome = { kind: "canceled" };
    return new Map(rows.map((r) => [r.id, canceled]));
  },
});

/** Writes the latest progress of running jobs (JSON text); a written one comes back `held`. */
export const progressWriter = (sql: Sql, workerId: string): BatchWriter<string> => ({
  async write(unordered) {
    const batch = inIdOrder(unordered);
    const rows = await jobProgress(sql, { ids: ids(batch), attempts: attempts(batch), values: batch.map((b) => b.data), workerId });
    const held: Outcome = { kind: "held" };
    return new Map(rows.map((r) => [r.id, held]));
  },
});

/** Writes snoozes and shutdown releases: back to `queued` without spending an attempt. */
export const snoozeWriter = (sql: Sql, workerId: string, channel: string): BatchWriter<number> => ({
  async write(unordered) {
    const batch = inIdOrder(unordered);
    const rows = await jobSnooze(sql, { ids: ids(batch), attempts: attempts(batch), delaysMs: batch.map((b) => b.data), workerId, channel });
    return new Map(rows.map((r): [string, Outcome] => [r.id, { kind: "snoozed", runAt: r.run_at }]));
  },
});
