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
  "worker:started": {
    /** The worker's `id` (its `workerId` option). */
    workerId: string;
  };
  /** The worker has stopped and released its connections. */
  "worker:stopped": {
    /** The worker's `id`. */
    workerId: string;
  };
  /** Something went wrong outside a handler (a lost connection, a failed statement); the worker carries on. */
  "worker:error": {
    /** The worker's `id`. */
    workerId: string;
    /** What went wrong. */
    error: Error;
    /** What the worker was doing, in words (e.g. `"claiming jobs"`, `"extending leases"`), as logged. */
    during: string;
  };
  /** The LISTEN connection is (re)established. */
  "worker:listening": {
    /** The worker's `id`. */
    workerId: string;
    /** False the first time after `start()`; true when a lost connection was restored. */
    reconnect: boolean;
  };
  /** A handler is about to run. */
  "job:started": {
    /** The job, as claimed (`status: "running"`, `attempts` counting this attempt). */
    job: Job;
  };
  /** A job finished and its result is stored. */
  "job:succeeded": {
    /** The job as it was when its handler started. */
    job: Job;
    /** The handler's return value, as stored (JSON; `null` for `undefined`). */
    result: unknown;
    /** How long the handler ran, in ms. */
    durationMs: number;
  };
  /** An attempt failed and the job will run again at `retryAt`. */
  "job:failed": {
    /** The job as it was when its handler started. */
    job: Job;
    /** What the handler threw (or the timeout). */
    error: Error;
    /** When the job may run again (after the backoff delay). */
    retryAt: Date;
    /** How long the attempt ran, in ms. */
    durationMs: number;
  };
  /** A job failed for the last time (or permanently) and is in the dead-letter state. */
  "job:dead": {
    /** The job as it was when its handler started. */
    job: Job;
    /** What the last attempt threw. */
    error: Error;
    /** How long the last attempt ran, in ms. */
    durationMs: number;
  };
  /** A handler asked to run the job later without spending an attempt. */
  "job:snoozed": {
    /** The job as it was when its handler started. */
    job: Job;
    /** When it may run again. */
    runAt: Date;
  };
  /** This worker no longer holds the job (its lease passed and another took it, or it was changed); the result is discarded. */
  "job:lease-lost": {
    /** The job as this worker last knew it. */
    job: Job;
  };
  /** Shutdown passed its timeout and the job was put back to be claimed again. */
  "job:released": {
    /** The job as it was when its handler started. */
    job: Job;
  };
  /** A job's cancel was requested while it ran here; its handler was cut off and it is `canceled`. */
  "job:canceled": {
    /** The job as it was when its handler started. */
    job: Job;
  };
  /** A handler's `ctx.progress()` value was written (at most every 250 ms per job). */
  "job:progress": {
    /** The running job. */
    job: Job;
    /** The value written: a number from 0 to 100 or a small JSON value. */
    progress: unknown;
  };
  /**
   * The maintenance loop found jobs whose lease had passed (their worker died
   * or stalled) and put them back or to dead; `released` of them had never
   * started and went back to `queued` without spending an attempt.
   */
  "jobs:rescued": {
    /** Jobs whose lease had passed, put back to `queued`, `failed` or `dead`. */
    count: number;
    /** Of those, the ones with no attempts left, now `dead`. */
    dead: number;
    /** Of those, the ones whose handler never started, back to `queued` without spending an attempt. */
    released: number;
    /** The ids of all of them. */
    ids: string[];
  };
  /** The maintenance loop deleted finished jobs past their retention age (see the `retention` option). */
  "jobs:pruned": {
    /** All jobs deleted in the pass. */
    deleted: number;
    /** Of those, `succeeded` ones. */
    succeeded: number;
    /** Of those, `dead` ones. */
    dead: number;
    /** Of those, `canceled` ones. */
    canceled: number;
  };
  /** The scheduler enqueued the jobs of due ticks of recurring schedules (see `queue.schedule`). */
  "jobs:scheduled": {
    /** Jobs created for due ticks (a tick another worker enqueued first is not counted here). */
    enqueued: number;
    /** The names of the schedules that had due ticks. */
    schedules: string[];
  };
}

/** The Queue's events. */
export type QueueEvents = {
  /**
   * A job was enqueued (`created: true`), or an existing one was returned for
   * its idempotency key (`created: false`). With `{ client }`, the job becomes
   * visible when the caller's transaction commits.
   */
  "job:enqueued": {
    /** The job created, or the existing one with the same idempotency key. */
    job: Job;
    /** Whether this call created the job. */
    created: boolean;
  };
}

/** An EventEmitter whose `on`/`once`/`off`/`emit` are typed by an event map. */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(100);
  }

  /**
   * Calls `listener` with the event's data each time `event` is emitted.
   * A listener that throws does not disturb the emitter or the other
   * listeners' caller (a Worker logs the error).
   * @returns this, for chaining.
   */
  on<K extends keyof Events & string>(event: K, listener: (data: Events[K]) => void): this {
    this.#emitter.on(event, listener);
    return this;
  }

  /**
   * Calls `listener` the next time `event` is emitted, then removes it.
   * @returns this, for chaining.
   */
  once<K extends keyof Events & string>(event: K, listener: (data: Events[K]) => void): this {
    this.#emitter.once(event, listener);
    return this;
  }

  /**
   * Removes a listener added with `on` or `once`.
   * @returns this, for chaining.
   */
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
