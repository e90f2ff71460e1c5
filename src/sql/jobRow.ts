import type { Job } from "../types.js";

/** The columns every statement returning jobs selects, in the order `jobFromRow` reads them. */
export const JOB_COLUMNS = `id, queue, type, payload, status, priority, run_at, attempts, max_attempts, timeout_ms,
  idempotency_key, locked_by, locked_until, last_error, errors, result, created_at, updated_at, started_at, finished_at`;

/** The same columns qualified with a table alias, for statements that join. */
export const jobColumnsOf = (alias: string) =>
  JOB_COLUMNS.split(",").map((c) => `${alias}.${c.trim()}`).join(", ");

/** Maps a `jobs` row (as pg parses it) to the public `Job` shape. */
export function jobFromRow(row: any): Job {
  return {
    id: row.id,
    queue: row.queue,
    type: row.type,
    payload: row.payload,
    status: row.status,
    priority: row.priority,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    idempotencyKey: row.idempotency_key,
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until,
    lastError: row.last_error,
    errors: row.errors,
    result: row.result,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
