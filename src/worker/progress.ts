import { ValidationError } from "../errors.js";
import { serializeJson } from "../payload.js";
import type { Sql } from "../sql/query.js";
import type { Job } from "../types.js";
import type { Attempt } from "./attempt.js";
import { Batcher, progressWriter } from "./completer.js";

/**
 * How often reported progress is written: a handler may call
 * `ctx.progress()` as often as it likes; each job's latest value goes out at
 * most once per interval, together with the other jobs' in one statement.
 */
export const PROGRESS_INTERVAL_MS = 250;

/** The largest progress value stored (progress is for a figure or a short status, not data). */
export const MAX_PROGRESS_BYTES = 8 * 1024;

/** A progress value as JSON text: a number from 0 to 100, or a JSON value of at most 8 KiB. */
export function progressText(value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0 || value > 100) {
      throw new ValidationError("progress", `Expected \`progress\` to be a number from 0 to 100 or a JSON value of at most 8 KiB, got \`${String(value)}\``);
    }
    return JSON.stringify(value);
  }
  if (value === undefined) {
    throw new ValidationError("progress", "Expected `progress` to be a number from 0 to 100 or a JSON value of at most 8 KiB, got `undefined`");
  }
  return serializeJson(value, "progress", MAX_PROGRESS_BYTES);
}

export interface ProgressOptions {
  sql: Sql;
  workerId: string;
  /** The attempts running now, by job id. */
  running: ReadonlyMap<string, Attempt>;
  /** A job's progress was written. */
  written(job: Job, progress: unknown): void;
  report(error: Error, doing: string): void;
}

/**
 * `ctx.progress(value)`: validated when called, written at most every
 * `PROGRESS_INTERVAL_MS` per job (the latest value wins), fenced like a
 * heartbeat. A value still waiting when the handler returns is written before
 * the job's outcome, so the job keeps the last progress its handler reported.
 */
export class Progress {
  readonly #o: ProgressOptions;
  readonly #writes: Batcher<string>;
  readonly #pending = new Map<Attempt, string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ProgressOptions) {
    this.#o = options;
    this.#writes = new Batcher(progressWriter(options.sql, options.workerId), (error) => options.report(error, "writing job progress"));
  }

  /** Takes a handler's report; throws a `ValidationError` for a value that cannot be stored. */
  report(entry: Attempt, value: unknown): void {
    const text = progressText(value);
    if (entry.reason) return;
    this.#pending.set(entry, text);
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.#flush(), PROGRESS_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Whether a value of this attempt waits to be written. */
  waiting(entry: Attempt): boolean {
    return this.#pending.has(entry);
  }

  /** Writes the attempt's waiting progress now, if any; resolves once it is written (or given up). */
  async settle(entry: Attempt): Promise<void> {
    const text = this.#pending.get(entry);
    if (text === undefined) return;
    this.#pending.delete(entry);
    if (!entry.reason) await this.#write(entry, text);
  }

  /** Drops what waits and writes what is in flight. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
    await this.#writes.close();
  }

  #flush(): void {
    this.#timer = undefined;
    const due = [...this.#pending];
    this.#pending.clear();
    for (const [entry, text] of due) {
      if (this.#o.running.get(entry.job.id) === entry && !entry.reason) void this.#write(entry, text);
    }
  }

  async #write(entry: Attempt, text: string): Promise<void> {
    try {
      const outcome = await this.#writes.push(entry.job, text);
      if (outcome.kind !== "held") return;
      const progress: unknown = JSON.parse(text);
      entry.job.progress = progress;
      this.#o.written(entry.job, progress);
    } catch {
      // The batcher reported it; progress is best effort, the outcome is not.
    }
  }
}
