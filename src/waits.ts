import type pg from "pg";
import { coerceError, JobFailedError, JobNotFoundError, WaitTimeoutError } from "./errors.js";
import { Notifier } from "./notifier.js";
import { jobGet } from "./sql/jobGet.js";
import { jobFromRow } from "./sql/jobRow.js";
import { jobWaitMark } from "./sql/jobWaitMark.js";
import type { Sql } from "./sql/query.js";
import type { Job } from "./types.js";

/** How a wait ends early, and what it reports on the way. */
export interface WaitSettings {
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
  onProgress: ((progress: unknown, job: Job) => void) | undefined;
}

interface Waiter {
  id: string;
  settings: WaitSettings;
  /** The last progress handed to `onProgress` (as JSON, to compare). */
  progress: string | undefined;
  resolve(job: Job): void;
  reject(error: unknown): void;
}

/** The payload prefix of "this job changed" on the jobs channel (see migrations/13_wait.sql). */
const CHANGED_PREFIX = "job ";

/**
 * The waits of one Queue: one LISTEN connection from its pool, opened by the
 * first wait and closed when the last one ends, shared by every wait. A wait
 * marks its job (`waited`), then reads it: a finished job settles it at
 * once. After that, each `job <id>` notification and each reconnect of the
 * LISTEN connection read the job again; the notification alone is never
 * trusted.
 */
export class JobWaits {
  readonly #pool: pg.Pool;
  readonly #sql: Sql;
  readonly #channel: string;
  readonly #waiters = new Map<string, Set<Waiter>>();
  #notifier: Notifier | undefined;
  #listening: Promise<void> | undefined;

  constructor(pool: pg.Pool, sql: Sql, channel: string) {
    this.#pool = pool;
    this.#sql = sql;
    this.#channel = channel;
  }

  wait(id: string, settings: WaitSettings): Promise<Job> {
    return new Promise<Job>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => finish(() => reject(settings.signal!.reason));
      const waiter: Waiter = {
        id,
        settings,
        progress: undefined,
        resolve: (job) => finish(() => resolve(job)),
        reject: (error) => finish(() => reject(error)),
      };
      let done = false;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        settings.signal?.removeEventListener("abort", onAbort);
        this.#remove(waiter);
        settle();
      };
      if (settings.signal?.aborted) {
        reject(settings.signal.reason);
        return;
      }
      settings.signal?.addEventListener("abort", onAbort, { once: true });
      if (settings.timeoutMs !== undefined) {
        const timeoutMs = settings.timeoutMs;
        timer = setTimeout(() => {
          void jobGet(this.#sql, { id }).then(
            ([row]) => waiter.reject(new WaitTimeoutError(id, timeoutMs, row?.status ?? "gone")),
            () => waiter.reject(new WaitTimeoutError(id, timeoutMs, "unknown")),
          );
        }, timeoutMs);
      }
      this.#add(waiter);
      void this.#start(waiter);
    });
  }

  /** Ends every wait with `error` and the LISTEN connection with them. */
  async close(error: Error): Promise<void> {
    for (const set of [...this.#waiters.values()]) for (const waiter of [...set]) waiter.reject(error);
    await this.#stopListening();
  }

  async #start(waiter: Waiter): Promise<void> {
    try {
      // Listening before the mark: a change right after it is not missed.
      await this.#listen();
      const [row] = await jobWaitMark(this.#sql, { id: waiter.id });
      if (!row) throw new JobNotFoundError(waiter.id);
      this.#check(waiter, jobFromRow(row));
    } catch (error) {
      waiter.reject(coerceError(error));
    }
  }

  /** Reads the job again for every waiter of `id` (all ids when undefined). */
  async #recheck(id: string | undefined): Promise<void> {
    const ids = id === undefined ? [...this.#waiters.keys()] : this.#waiters.has(id) ? [id] : [];
    for (const jobId of ids) {
      try {
        const [row] = await jobGet(this.#sql, { id: jobId });
        for (const waiter of [...(this.#waiters.get(jobId) ?? [])]) {
          if (row) this.#check(waiter, jobFromRow(row));
          else waiter.reject(new JobNotFoundError(jobId));
        }
      } catch {
        // The connection is down: the reconnect reads every waited job again.
      }
    }
  }

  #check(waiter: Waiter, job: Job): void {
    const onProgress = waiter.settings.onProgress;
    if (onProgress && job.progress !== null && job.progress !== undefined) {
      const text = JSON.stringify(job.progress);
      if (text !== waiter.progress) {
        waiter.progress = text;
        try {
          onProgress(job.progress, job);
        } catch {
          // A throwing callback must not end the wait.
        }
      }
    }
    if (job.status === "succeeded") waiter.resolve(job);
    else if (job.status === "dead" || job.status === "canceled") waiter.reject(new JobFailedError(job));
  }

  #add(waiter: Waiter): void {
    let set = this.#waiters.get(waiter.id);
    if (!set) this.#waiters.set(waiter.id, (set = new Set()));
    set.add(waiter);
  }

  #remove(waiter: Waiter): void {
    const set = this.#waiters.get(waiter.id);
    set?.delete(waiter);
    if (set?.size === 0) this.#waiters.delete(waiter.id);
    if (this.#waiters.size === 0) void this.#stopListening();
  }

  #listen(): Promise<void> {
    if (!this.#listening) {
      const notifier = new Notifier(this.#pool, this.#channel, {
        onNotify: (payload) => {
          if (payload.startsWith(CHANGED_PREFIX)) void this.#recheck(payload.slice(CHANGED_PREFIX.length));
        },
        onListening: (reconnect) => {
          if (reconnect) void this.#recheck(undefined);
        },
        onError: () => {},
      });
      this.#notifier = notifier;
      this.#listening = notifier.start().catch((error: unknown) => {
        if (this.#notifier === notifier) {
          this.#notifier = undefined;
          this.#listening = undefined;
        }
        void notifier.close();
        throw error;
      });
    }
    return this.#listening;
  }

  async #stopListening(): Promise<void> {
    const notifier = this.#notifier;
    this.#notifier = undefined;
    this.#listening = undefined;
    await notifier?.close();
  }
}
