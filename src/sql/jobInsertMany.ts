import type { UuidBatch } from "../uuid.js";
import { batchColumns, column } from "./batchColumns.js";
import { textArray } from "./binaryArray.js";
import { insertReturnColumns, type InsertRow, type NewJob } from "./jobRow.js";
import { query } from "./query.js";

/**
 * Inserts many jobs in one statement from parallel arrays (`unnest`), with the
 * same idempotency rule as `jobInsert`. The caller passes ids (UUIDv7, one
 * per job) so it can match returned rows to its items; rows that existed come
 * back with `created = false` and their own id. Keys must be unique within one
 * call. One NOTIFY per distinct queue with runnable new jobs (none with a
 * null channel). Of new rows only the ids, queues and the server's timestamps
 * come back, already in the RETURNING list (see `insertReturnColumns`).
 * `traceContext` is the producer's trace context, the same for every row
 * (see tracing.ts). The columns every job shares go once (see
 * `batchColumns`); $18 holds the keys (null for a job without one), $20
 * and $21 the group keys as `column` gives them. A grouped job's run time
 * is the clock's at the statement (one reading for all its rows, so their
 * order falls to the ids, which follow item order); see `jobInsert`.
 * A batch without keys takes `jobInsertKeyless`.
 *
 * Rows go in sorted by (type, key): two batches that share keys then wait on
 * each other's keys in the same order, instead of each holding a key the
 * other needs (a deadlock). When every job has the same type, `u.type` is
 * null throughout and the keys alone give the order. The ids, not the insert
 * order, carry item order.
 */
export const jobInsertMany = query<
  { ids: UuidBatch; jobs: readonly NewJob[]; channel: string | null; traceContext: object | null; binary: boolean },
  InsertRow
>(
  "jobInsertMany",
  (s) => `WITH ins AS (
  INSERT INTO ${s}.jobs AS j
    (id, queue, type, payload, priority, run_at, max_attempts, timeout_ms, idempotency_key, trace_context, group_key)
  SELECT u.id, COALESCE(u.queue, $4::text), COALESCE(u.type, $6::text), u.payload::jsonb, COALESCE(u.priority, $8::int),
    COALESCE(u.run_at, $10::timestamptz, CASE WHEN COALESCE(u.grp, $21::text) IS NULL THEN now() ELSE (SELECT clock_timestamp()) END
      + make_interval(secs => COALESCE(u.delay_ms, $12::float8, 0) / 1000)),
    COALESCE(u.max_attempts, $14::int), COALESCE(u.timeout_ms, $16::int), u.key, $17::jsonb, COALESCE(u.grp, $21::text)
  FROM unnest($1::uuid[], $2::text[], $3::text[], $5::text[], $7::int[], $9::timestamptz[], $11::float8[], $13::int[], $15::int[], $18::text[], $20::text[])
    AS u(id, payload, queue, type, priority, run_at, delay_ms, max_attempts, timeout_ms, key, grp)
  ORDER BY u.type COLLATE "C", u.key COLLATE "C"
  ON CONFLICT (type, idempotency_key) WHERE idempotency_key IS NOT NULL
    DO UPDATE SET type = EXCLUDED.type
  RETURNING ${insertReturnColumns("(j.xmax = 0)")}
), wake AS (
  SELECT pg_notify($19, q.queue) FROM (SELECT DISTINCT queue FROM ins WHERE $19::text IS NOT NULL AND created AND run_at <= clock_timestamp()) q
)
SELECT * FROM ins WHERE (SELECT count(*) FROM wake) >= 0`,
  ({ ids, jobs, channel, traceContext, binary }) => {
    const keys = jobs.map((j) => j.key);
    const group = column(jobs.map((j) => j.group));
    return [...batchColumns(ids, jobs, binary), traceContext, binary ? textArray(keys) : keys, channel, binary ? textArray(group.each) : group.each, group.all];
  },
);
