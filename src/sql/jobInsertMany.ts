import { insertReturnColumns, JOB_COLUMNS, type InsertRow, type NewJob } from "./jobRow.js";
import { query } from "./query.js";

/**
 * Inserts many jobs in one statement from parallel arrays (`unnest`), with the
 * same idempotency rule as `jobInsert`. The caller passes ids (UUIDv7, one
 * per job) so it can match returned rows to its items; rows that existed come
 * back with `created = false` and their own id. Keys must be unique within one
 * call. One NOTIFY per distinct queue with runnable new jobs (none with a
 * null channel). Of new rows only the ids and the server's timestamps come
 * back (see `insertReturnColumns`). `traceContext` is the producer's trace
 * context, the same for every row (see tracing.ts).
 *
 * Rows go in sorted by (type, key): two batches that share keys then wait on
 * each other's keys in the same order, instead of each holding a key the
 * other needs (a deadlock). The ids, not the insert order, carry item order.
 */
export const jobInsertMany = query<
  { ids: readonly string[]; jobs: readonly NewJob[]; channel: string | null; traceContext: object | null },
  InsertRow
>(
  "jobInsertMany",
  (s) => `WITH ins AS (
  INSERT INTO ${s}.jobs AS j
    (id, queue, type, payload, priority, run_at, max_attempts, timeout_ms, idempotency_key, trace_context)
  SELECT u.id, u.queue, u.type, u.payload::jsonb, u.priority,
    COALESCE(u.run_at, now() + make_interval(secs => COALESCE(u.delay_ms, 0) / 1000)),
    u.max_attempts, u.timeout_ms, u.key, $12::jsonb
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[],
              $7::float8[], $8::int[], $9::int[], $10::text[])
    AS u(id, queue, type, payload, priority, run_at, delay_ms, max_attempts, timeout_ms, key)
  ORDER BY u.type COLLATE "C", u.key COLLATE "C"
  ON CONFLICT (type, idempotency_key) WHERE idempotency_key IS NOT NULL
    DO UPDATE SET type = EXCLUDED.type
  RETURNING ${JOB_COLUMNS}, (xmax = 0) AS created
), wake AS (
  SELECT pg_notify($11, q.queue) FROM (SELECT DISTINCT queue FROM ins WHERE $11::text IS NOT NULL AND created AND run_at <= now()) q
)
SELECT ${insertReturnColumns()} FROM ins WHERE (SELECT count(*) FROM wake) >= 0`,
  ({ ids, jobs, channel, traceContext }) => [
    ids,
    jobs.map((j) => j.queue),
    jobs.map((j) => j.type),
    jobs.map((j) => j.payload),
    jobs.map((j) => j.priority),
    jobs.map((j) => j.runAt),
    jobs.map((j) => j.delayMs),
    jobs.map((j) => j.maxAttempts),
    jobs.map((j) => j.timeoutMs),
    jobs.map((j) => j.key),
    channel,
    traceContext,
  ],
);
