import type { Job } from "../types.js";

/** Why a job's signal was aborted. */
export class AbortReason extends Error {
  constructor(readonly why: "timeout" | "lease-lost" | "shutdown" | "canceled", message: string) {
    super(message);
    this.name = why === "timeout" ? "TimeoutError" : "AbortError";
  }
}

/**
 * One run of a job in this worker: when it started, whether and why it was
 * cut off, and the signal its handler sees.
 *
 * The `AbortController` behind `signal` is made only when something reads the
 * signal. Most short handlers never do, and a controller (an event target with
 * its listener bookkeeping) was the largest per-job cost of a worker running
 * no-op jobs. The executor waits through `race()` instead, a plain promise.
 */
export class Attempt {
  readonly startedAt = performance.now();
  #reason: AbortReason | undefined;
  #controller: AbortController | undefined;
  #reject: ((reason: AbortReason) => void) | undefined;
  /** The handler's own promise, settled when it returns or throws (which may be after the attempt was cut off). */
  #handler: Promise<unknown> | undefined;

  constructor(readonly job: Job) {}

  /** Aborted with the reason once the attempt is cut off. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Why the attempt was cut off, if it was. */
  get reason(): AbortReason | undefined {
    return this.#reason;
  }

  /** Cuts the attempt off; the first reason wins. */
  abort(reason: AbortReason): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#reject?.(reason);
  }

  /**
   * Settles as `running` does, or rejects with the reason as soon as the
   * attempt is cut off (at once if it already was), whichever comes first.
   * One promise instead of a `Promise.race` of two, per job; it also handles
   * a rejection of `running` that comes after the cut-off, which then goes
   * nowhere.
   */
  race<T>(running: Promise<T>): Promise<T> {
    this.#handler = running;
    return new Promise<T>((resolve, reject) => {
      if (this.#reason) reject(this.#reason);
      else this.#reject = reject;
      running.then(resolve, reject);
    });
  }

  /** Resolves when the handler has returned or thrown, whatever the attempt's verdict. */
  handlerSettled(): Promise<void> {
    return this.#handler ? this.#handler.then(
      () => {},
      () => {},
    ) : Promise.resolve();
  }
}
