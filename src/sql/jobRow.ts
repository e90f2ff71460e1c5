import type { JobStatus } from "../states.js";
import type { Job, JobErrorRecord } from "../types.js";

/** The columns every statement returning jobs selects, in the order `jobFromRow` reads them. */
export const JOB_COLUMNS = `id, queue, type, payload, status, priority, run_at, attempts, max_attempts, timeout_ms,
  idempotency_key, locked_by, locked_until, last_error, errors, result, created_at, updated_at, started_at, finished_at, progress, cancel_requested_at, group_key`;

/** A `jobs` row as `JOB_COLUMNS` selects it and pg parses it. */
export interface JobRow {
  id: string;
  queue: string;
  type: string;
  payload: unknown;
  status: JobStatus;
  priority: number;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  idempotency_key: string | null;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: string | null;
  errors: JobErrorRecord[];
  result: unknown;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  progress: unknown;
  cancel_requested_at: Date | null;
  group_key: string | null;
}

/**
 * A row of an enqueue statement: the id, queue and server timestamps of every
 * row, the other columns only for a row that existed (`created` false; see
 * `insertReturnColumns`).
 */
export interface InsertRow extends JobRow {
  created: boolean;
}

/** Maps a `jobs` row to the public `Job` shape. */
export function jobFromRow(row: JobRow): Job {
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
    progress: row.progress,
    cancelRequestedAt: row.cancel_requested_at,
    group: row.group_key,
  };
}

/** A job about to be inserted, as the enqueue statements take it. */
export interface NewJob {
  queue: string;
  type: string;
  /** JSON text. */
  payload: string;
  priority: number;
  runAt: Date | null;
  delayMs: number | null;
  maxAttempts: number;
  timeoutMs: number | null;
  key: string | null;
  /** The group key, or null. */
  group: string | null;
}

/** Columns the enqueue statements always return: what only the server knows of a new row, and the queue to wake. */
const INSERT_KNOWN = new Set(["id", "queue", "run_at", "created_at"]);

/**
 * The select list of an enqueue statement over a CTE that returned
 * `JOB_COLUMNS` and `created`: the id and server timestamps of every row, and
 * the other columns only for rows that already existed (`created` false).
 * Of a row just inserted the caller knows everything else, and sending back
 * and parsing payload and timestamps it already had was about a third of a
 * bulk insert's time. `created` is the expression that tells: in a RETURNING
 * list, `(j.xmax = 0)`, so that new rows are not even copied out of the insert.
 */
export const insertReturnColumns = (created = "created"): string =>
  JOB_COLUMNS.split(",")
    .map((c) => c.trim())
    .map((c) => (INSERT_KNOWN.has(c) ? c : `CASE WHEN ${created} THEN NULL ELSE ${c} END AS ${c}`))
    .concat(`${created} AS created`)
    .join(", ");

/**
 * The `Job` an enqueue statement returned: built from what was sent for a row
 * it inserted, read from the row for one that existed.
 */
export function jobFromInsert(job: NewJob, row: InsertRow): Job {
  if (!row.created) return jobFromRow(row);
  return jobCreated(job, row.id, row.run_at, row.created_at);
}

/**
 * A job just inserted, from what was sent and what only the server knew: its
 * id (when the server made it), run time and creation time. The payload is
 * parsed from the text sent, so the job holds a copy of the caller's value
 * (with its key order; the stored jsonb sorts keys).
 */
export function jobCreated(job: NewJob, id: string, runAt: Date, createdAt: Date): Job {
  return {
    id,
    queue: job.queue,
    type: job.type,
    payload: JSON.parse(job.payload),
    status: "queued",
    priority: job.priority,
    runAt,
    attempts: 0,
    maxAttempts: job.maxAttempts,
    timeoutMs: job.timeoutMs,
    idempotencyKey: job.key,
    lockedBy: null,
    lockedUntil: null,
    lastError: null,
    errors: [],
    result: null,
    createdAt,
    updatedAt: createdAt,
    startedAt: null,
    finishedAt: null,
    progress: null,
    cancelRequestedAt: null,
    group: job.group,
  };
}
