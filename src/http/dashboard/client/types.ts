/** The shapes the API answers with, as the page reads them (times are ISO strings in JSON). */

export const STATUSES = ["queued", "running", "succeeded", "failed", "canceled", "dead"] as const;
export type Status = (typeof STATUSES)[number];
export type Counts = Record<Status, number>;

export interface QueueEntry {
  queue: string;
  counts: Counts;
  total: number;
  paused: boolean;
  lagMs: number | null;
  /** The queue's cluster-wide limits, or null when it has none. */
  limits?: { concurrency: number | null; rate: { limit: number; intervalMs: number } | null; group?: { concurrency: number } | null } | null;
}

export interface WorkerEntry {
  id: string;
  host: string;
  pid: number;
  queues: string[] | null;
  types: string[];
  concurrency: number;
  running: number;
  startedAt: string;
  seenAt: string;
}

export interface MinuteCounts {
  minute: string;
  succeeded: number;
  failed: number;
  dead: number;
}

export interface Overview {
  at: string;
  stats: { queues: QueueEntry[]; totals: Counts; lagMs: number | null };
  workers: WorkerEntry[];
  throughput: MinuteCounts[];
}

export interface JobError {
  attempt: number;
  at: string;
  message: string;
  stack?: string;
  unstarted?: true;
}

export interface Job {
  id: string;
  queue: string;
  type: string;
  payload: unknown;
  status: Status;
  priority: number;
  runAt: string;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  group: string | null;
  lockedBy: string | null;
  lockedUntil: string | null;
  lastError: string | null;
  errors: JobError[];
  result: unknown;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Session {
  auth: boolean;
  readOnly: boolean;
  queues: string[] | null;
}
