import { ConfigError } from "./errors.js";

/**
 * Counts a Queue's public calls while they run, so that `close()` can let
 * them settle before it ends the pool (pg's end() leaves callers still
 * waiting for a connection pending forever), and refuses new ones once
 * closing began.
 */
export class CallTracker {
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing = false;

  /** Runs a call's work, counted until it settles; once closing began, refuses it instead. */
  track<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new ConfigError("This Queue is closed"));
    const call = work();
    this.#inFlight.add(call);
    const forget = () => void this.#inFlight.delete(call);
    call.then(forget, forget);
    return call;
  }

  /** Refuses new calls and resolves once every call in flight has settled. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled(this.#inFlight);
  }
}
