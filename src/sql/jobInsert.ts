import { insertReturnColumns, JOB_COLUMNS, type InsertRow, type NewJob } from "./jobRow.js";
import { query } from "./query.js";

/**
 * Inserts one job, or returns the existing one with the same (type,
 * idempotency key) and `created = false`. The no-op DO UPDATE makes the
 * existing row come back even when another transaction committed it after
 * this statement's snapshot (DO NOTHING would return nothing then).
 * Wakes the workers of the job's queue with one NOTIFY on `channel`,
 * delivered on commit, when the job is runnable now (no NOTIFY with a null
 * channel: the caller wakes workers later). Of a new row only the id and the
 * server's timestamps come back (see `insertReturnColumns`). `traceContext`
 * is the producer's trace context (see tracing.ts).
 *
 * A grouped job's run time is the clock's at insert, not the transaction's
 * `now()`: jobs of one group enqueued by several statements of one
 * transaction then keep their order (a group's jobs start in claim order,
 * priority, run_at, id; see migrations/14_groups.sql).
 */
export const jobInsert = query<{ job: NewJob; channel: string | null; traceContext: object | null }, InsertRow>(
  "jobInsert",
  (s) => `WITH ins AS (
  INSERT INTO ${s}.jobs AS j
    (queue, type, payload, priority, run_at, max_attempts, timeout_ms, idempotency_key, trace_context, group_key)
  VALUES ($1, $2, $3::jsonb, $4,
    COALESCE($5::timestamptz, CASE WHEN $12::text IS NULL THEN now() ELSE clock_timestamp() END + make_interval(secs => COALESCE($6::float8, 0) / 1000)),
    $7, $8, $9, $11::jsonb, $12)
  ON CONFLICT (type, idempotency_key) WHERE idempotency_key IS NOT NULL
    DO UPDATE SET type = EXCLUDED.type
  RETURNING ${JOB_COLUMNS}, (xmax = 0) AS created
), wake AS (
  SELECT pg_notify($10, queue) FROM ins WHERE $10::text IS NOT NULL AND created AND run_at <= clock_timestamp()
)
SELECT ${insertReturnColumns()} FROM ins WHERE (SELECT count(*) FROM wake) >= 0`,
  ({ job, channel, traceContext }) => [
    job.queue,
    job.type,
    job.payload,
    job.priority,
    job.runAt,
    job.delayMs,
    job.maxAttempts,
    job.timeoutMs,
    job.key,
    channel,
    traceContext,
    job.group,
  ],
);
