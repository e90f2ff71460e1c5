/**
 * The one interface every queue under test is driven through. An adapter
 * works in one fresh database (its URL is given to `open`) and uses only the
 * system's public API, except `addFinished` and `unfinished`, which read and
 * write the system's own table directly: the first to build history quickly,
 * the second so that "done" means what the database shows, not what a
 * handler saw.
 */
export interface Payload {
  /** Index of the job in its measurement (the latency scenario matches on it). */
  i: number;
}

export interface WorkerHandle {
  stop(): Promise<void>;
}

export interface Adapter {
  /** Creates the system's schema in the (empty) database. */
  install(): Promise<void>;
  /** One job, one awaited call. */
  enqueue(payload: Payload): Promise<void>;
  /** Many jobs through the system's bulk API, in one call; with `runAt`, scheduled for then. */
  enqueueBatch(payloads: Payload[], runAt?: Date): Promise<void>;
  /** `count` jobs that already ran to completion, written straight into the system's table. */
  addFinished(count: number): Promise<void>;
  /** Starts a worker running a no-op handler that calls `onJob` first thing. */
  work(concurrency: number, onJob: (payload: Payload) => void): Promise<WorkerHandle>;
  /** Jobs that are due and not finished yet (queued, retrying or running). */
  unfinished(): Promise<number>;
  close(): Promise<void>;
}

export interface System {
  name: string;
  /** Package version under test. */
  version: string;
  /** Configurations, by name, each with the settings it stands for (for the docs and the results). */
  configs: Record<string, string>;
  open(url: string, config: string): Adapter;
}
