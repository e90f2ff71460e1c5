import { EventEmitter } from "node:events";
import type { Job } from "./types.js";

/**
 * The worker's events, by name. Counterparts of the classic job-system events:
 * submitted -> the Queue's `job:enqueued`; started -> `job:started`;
 * completed -> `job:succeeded`; failed and retry -> `job:failed` (with `retryAt`);
 * dlq -> `job:dead`.
 */
export type WorkerEvents = {
  /** The worker is claiming jobs. */
  "worker:started": { workerId: string };
  /** The worker has stopped and released its connections. */
  "worker:stopped": { workerId: string };
  /** Something went wrong outside a handler (a lost connection, a failed statement); the worker carries on. */
  "worker:error": { workerId: string; error: Error; during: string };
  /** The LISTEN connection is (re)established. */
  "worker:listening": { workerId: string; reconnect: boolean };
  /** A handler is about to run. */
  "job:started": { job: Job };
  /** A job finished and its result is stored. */
  "job:succeeded": { job: Job; result: unknown; durationMs: number };
  /** An attempt failed and the job will run again at `retryAt`. */
  "job:failed": { job: Job; error: Error; retryAt: Date; durationMs: number };
  /** A job failed for the last time (or permanently) and is in the dead-letter state. */
  "job:dead": { job: Job; error: Error; durationMs: number };
  /** A handler asked to run the job later without spending an attempt. */
  "job:snoozed": { job: Job; runAt: Date };
  /** This worker no longer holds the job (its lease passed and another took it, or it was changed); the result is discarded. */
  "job:lease-lost": { job: Job };
  /** Shutdown passed its timeout and the job was put back to be claimed again. */
  "job:released": { job: Job };
  /** A job's cancel was requested while it ran here; its handler was cut off and it is `canceled`. */
  "job:canceled": { job: Job };
  /** A handler's `ctx.progress()` value was written (at most every 250 ms per job). */
  "job:progress": { job: Job; progress: unknown };
  /**
   * The maintenance loop found jobs whose lease had passed (their worker died
   * or stalled) and put them back or to dead; `released` of them had never
   * started and went back to `queued` without spending an attempt.
   */
  "jobs:rescued": { count: number; dead: number; released: number; ids: string[] };
  /** The maintenance loop deleted finished jobs past their retention age (see the `retention` option). */
  "jobs:pruned": { deleted: number; succeeded: number; dead: number; canceled: number };
  /** The scheduler enqueued the jobs of due ticks of recurring schedules (see `queue.schedule`). */
  "jobs:scheduled": { enqueued: number; schedules: string[] };
}

/** The Queue's events. */
export type QueueEvents = {
  /**
   * A job was enqueued (`created: true`), or an existing one was returned for
   * its idempotency key (`created: false`). With `{ client }`, the job becomes
   * visible when the caller's transaction commits.
   */
  "job:enqueued": { job: Job; created: boolean };
}

/** An EventEmitter whose `on`/`once`/`off`/`emit` are typed by an event map. */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(100);
  }

  on<K extends keyof Events & string>(event: K, listener: (data: Events[K]) => void): this {
    this.#emitter.on(event, listener);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: (data: Events[K]) => void): this {
    this.#emitter.once(event, listener);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: (data: Events[K]) => void): this {
    this.#emitter.off(event, listener);
    return this;
  }

  /** Calls the listeners; a listener that throws does not disturb the caller. */
  protected emit<K extends keyof Events & string>(event: K, data: Events[K]): void {
    if (this.#emitter.listenerCount(event) === 0) return;
    try {
      this.#emitter.emit(event, data);
    } catch (error) {
      this.listenerFailed(event, error);
    }
  }

  /** A listener threw: the emitter's owner decides how to report it. */
  protected listenerFailed(_event: string, _error: unknown): void {}

  /** Whether anyone listens (lets hot paths skip building event data). */
  protected listens(event: keyof Events & string): boolean {
    return this.#emitter.listenerCount(event) > 0;
  }
}
