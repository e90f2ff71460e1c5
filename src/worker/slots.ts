import { AbortReason, type Attempt } from "./attempt.js";

/**
 * The attempts running in a worker's slots, by job id, and waiting for them
 * to finish at shutdown.
 */
export class Slots {
  readonly #running = new Map<string, Attempt>();
  #drained: (() => void) | undefined;
  /** Attempts cut off by `abortAll`, whose handlers may still be running their cleanup. */
  #aborted: Attempt[] = [];

  /** The attempts running now, by job id (read-only for the leases). */
  get running(): ReadonlyMap<string, Attempt> {
    return this.#running;
  }

  get size(): number {
    return this.#running.size;
  }

  /** The attempt of this job running here, if any. */
  get(jobId: string): Attempt | undefined {
    return this.#running.get(jobId);
  }

  /** Takes a slot for an attempt (replacing an older attempt of the same job, which the caller cut off). */
  take(entry: Attempt): void {
    this.#running.set(entry.job.id, entry);
  }

  /** Frees the attempt's slot; a newer attempt of the same job that took its place keeps its own. */
  free(entry: Attempt): void {
    if (this.#running.get(entry.job.id) === entry) this.#running.delete(entry.job.id);
    if (this.#running.size === 0) this.#drained?.();
  }

  /** Cuts off every running attempt: shutdown passed its grace period (or a second signal came). */
  abortAll(): void {
    for (const entry of this.#running.values()) {
      this.#aborted.push(entry);
      entry.abort(new AbortReason("shutdown", "The worker is shutting down"));
    }
  }

  /**
   * Waits up to `timeoutMs` for the handlers `abortAll` cut off to return:
   * their slots were given back at once, but a handler that honours its
   * signal may still be cleaning up (a `finally` that writes, closes, logs),
   * and the process may exit as soon as the worker says it stopped. One that
   * ignores its signal is left behind after `timeoutMs`.
   */
  async abortedHandlersSettled(timeoutMs: number): Promise<void> {
    const aborted = this.#aborted;
    this.#aborted = [];
    if (aborted.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(aborted.map((entry) => entry.handlerSettled())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Resolves true when no attempt is running, or false after `timeoutMs`. */
  allFinished(timeoutMs: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => resolve(false), timeoutMs) : undefined;
      this.#drained = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
