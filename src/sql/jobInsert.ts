import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { insertReturnColumns, JOB_COLUMNS } from "./jobRow.js";

/**
 * Inserts one job, or returns the existing one with the same (type,
 * idempotency key) and `created = false`. The no-op DO UPDATE makes the
 * existing row come back even when another transaction committed it after
 * this statement's snapshot (DO NOTHING would return nothing then).
 * Wakes the workers of the job's queue with one NOTIFY, delivered on commit,
 * when the job is runnable now. Of a new row only the id and the server's
 * timestamps come back (see `insertReturnColumns`).
 *
 * $1 queue, $2 type, $3 payload json, $4 priority, $5 run_at (null: now),
 * $6 delay ms (null: none), $7 max_attempts, $8 timeout_ms, $9 key,
 * $10 channel (null: no NOTIFY, the caller wakes workers later),
 * $11 the producer's trace context (null: none; see tracing.ts)
 */
export const jobInsert = (schema: string): Statement =>
  statement(
    schema,
    "jobInsert",
    `WITH ins AS (
  INSERT INTO ${quoteIdent(schema)}.jobs AS j
    (queue, type, payload, priority, run_at, max_attempts, timeout_ms, idempotency_key, trace_context)
  VALUES ($1, $2, $3::jsonb, $4,
    COALESCE($5::timestamptz, now() + make_interval(secs => COALESCE($6::float8, 0) / 1000)),
    $7, $8, $9, $11::jsonb)
  ON CONFLICT (type, idempotency_key) WHERE idempotency_key IS NOT NULL
    DO UPDATE SET type = EXCLUDED.type
  RETURNING ${JOB_COLUMNS}, (xmax = 0) AS created
), wake AS (
  SELECT pg_notify($10, queue) FROM ins WHERE $10::text IS NOT NULL AND created AND run_at <= now()
)
SELECT ${insertReturnColumns()} FROM ins WHERE (SELECT count(*) FROM wake) >= 0`,
  );
