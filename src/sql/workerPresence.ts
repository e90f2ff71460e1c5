import type { WorkerInfo } from "../types.js";
import { query } from "./query.js";

/** A `workers` row as the statements below return it. */
export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  queues: string[] | null;
  types: string[];
  concurrency: number;
  running: number;
  started_at: Date;
  seen_at: Date;
}

/** What a worker says of itself. */
export interface WorkerIdentity {
  id: string;
  host: string;
  pid: number;
  /** null: every queue. */
  queues: readonly string[] | null;
  types: readonly string[];
  concurrency: number;
}

const WORKER_COLUMNS = "id, host, pid, queues, types, concurrency, running, started_at, seen_at";

/**
 * A worker's row as it starts. A row with the same id (a worker given a fixed
 * `workerId` that was killed and restarted) is taken over.
 */
export const workerRegister = query<WorkerIdentity, unknown>(
  "workerRegister",
  (s) => `INSERT INTO ${s}.workers AS w (id, host, pid, queues, types, concurrency)
VALUES ($1, $2, $3, $4::text[], $5::text[], $6)
ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, queues = EXCLUDED.queues, types = EXCLUDED.types,
  concurrency = EXCLUDED.concurrency, running = 0, started_at = now(), seen_at = now()`,
  (p) => [p.id, p.host, p.pid, p.queues, p.types, p.concurrency],
);

/**
 * The worker is alive with `running` handlers. Puts its row back if it is
 * gone (pruned while the worker could not reach the database for an hour).
 */
export const workerSeen = query<WorkerIdentity & { running: number }, unknown>(
  "workerSeen",
  (s) => `INSERT INTO ${s}.workers AS w (id, host, pid, queues, types, concurrency, running)
VALUES ($1, $2, $3, $4::text[], $5::text[], $6, $7)
ON CONFLICT (id) DO UPDATE SET running = EXCLUDED.running, seen_at = now()`,
  (p) => [p.id, p.host, p.pid, p.queues, p.types, p.concurrency, p.running],
);

/** The worker stopped. */
export const workerGone = query<{ id: string }, unknown>(
  "workerGone",
  (s) => `DELETE FROM ${s}.workers WHERE id = $1`,
  (p) => [p.id],
);

/** The workers heard from within `seenWithinMs` (all of them when null), by id in byte order. */
export const workersList = query<{ seenWithinMs: number | null }, WorkerRow>(
  "workersList",
  (s) => `SELECT ${WORKER_COLUMNS} FROM ${s}.workers
WHERE $1::float8 IS NULL OR seen_at >= now() - $1::float8 * interval '1 millisecond'
ORDER BY id COLLATE "C"`,
  (p) => [p.seenWithinMs],
);

/** Deletes the rows of workers not heard from for `olderThanMs` (they died without stopping). */
export const workersPrune = query<{ olderThanMs: number }, { id: string }>(
  "workersPrune",
  (s) => `DELETE FROM ${s}.workers WHERE seen_at < now() - $1::float8 * interval '1 millisecond' RETURNING id`,
  (p) => [p.olderThanMs],
);

/** Maps a `workers` row to the public `WorkerInfo` shape. */
export function workerFromRow(row: WorkerRow): WorkerInfo {
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    queues: row.queues,
    types: row.types,
    concurrency: row.concurrency,
    running: row.running,
    startedAt: row.started_at,
    seenAt: row.seen_at,
  };
}
