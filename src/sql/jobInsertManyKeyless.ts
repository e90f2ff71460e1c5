import type { UuidBatch } from "../uuid.js";
import { float8Array, int4Array, textArray, timestamptzArray, uuidArray } from "./binaryArray.js";
import type { NewJob } from "./jobRow.js";
import { query } from "./query.js";

/** The queues to wake, each with the earliest run_at of its jobs (null: some job runs now). */
export interface WakeList {
  queues: readonly string[];
  at: readonly (Date | null)[];
}

/**
 * A column of the batch as the statement takes it: `each` value in an array,
 * or, when all are the same, an empty array and that value as `all`
 * (`unnest` pads the shorter arrays with nulls, and the statement reads
 * `COALESCE(u.column, all)`). Most batches give every job the same queue,
 * type and options, and a column sent once costs neither side anything per job.
 */
function column<T>(values: readonly T[], key: (v: T) => unknown = (v) => v): { each: readonly T[]; all: T | null } {
  const first = key(values[0]!);
  for (let i = 1; i < values.length; i++) if (key(values[i]!) !== first) return { each: values, all: null };
  return { each: [], all: values[0] ?? null };
}

/**
 * Inserts a batch of jobs none of which has an idempotency key: nothing can
 * conflict, so there is no ON CONFLICT arbiter (each row would otherwise be a
 * speculative insertion with a WAL record of its own), no sort, and nothing
 * comes back but the statement's `now()` (as epoch milliseconds, so every
 * driver returns the same number): the caller made the ids and knows every
 * other column of a new row. Returning and parsing the rows was a third of a
 * bulk insert's time, and the CTE that held them for the wake-up another
 * sixth.
 *
 * `wake` lists each queue with runnable jobs in Node's view: null when one
 * of its jobs runs now, else its earliest `runAt`, which only the server's
 * clock can compare. One NOTIFY on `channel` per queue that is runnable
 * now (none with a null channel).
 *
 * With `binary`, the arrays go in PostgreSQL's binary format (see
 * binaryArray.ts); without, as JavaScript arrays for the driver to send.
 */
export const jobInsertManyKeyless = query<
  { ids: UuidBatch; jobs: readonly NewJob[]; channel: string | null; wake: WakeList; traceContext: object | null; binary: boolean },
  { now_ms: number | string }
>(
  "jobInsertManyKeyless",
  (s) => `WITH ins AS (
  INSERT INTO ${s}.jobs
    (id, queue, type, payload, priority, run_at, max_attempts, timeout_ms, trace_context)
  SELECT u.id, COALESCE(u.queue, $4::text), COALESCE(u.type, $6::text), u.payload::jsonb, COALESCE(u.priority, $8::int),
    COALESCE(u.run_at, $10::timestamptz, now() + make_interval(secs => COALESCE(u.delay_ms, $12::float8, 0) / 1000)),
    COALESCE(u.max_attempts, $14::int), COALESCE(u.timeout_ms, $16::int), $17::jsonb
  FROM unnest($1::uuid[], $2::text[], $3::text[], $5::text[], $7::int[], $9::timestamptz[], $11::float8[], $13::int[], $15::int[])
    AS u(id, payload, queue, type, priority, run_at, delay_ms, max_attempts, timeout_ms)
), wake AS (
  SELECT pg_notify($18, w.queue) FROM unnest($19::text[], $20::timestamptz[]) AS w(queue, at)
  WHERE $18::text IS NOT NULL AND (w.at IS NULL OR w.at <= now())
)
SELECT floor(extract(epoch FROM now()) * 1000)::float8 AS now_ms, (SELECT count(*) FROM wake) AS woken`,
  ({ ids, jobs, channel, wake, traceContext, binary }) => {
    const queue = column(jobs.map((j) => j.queue));
    const type = column(jobs.map((j) => j.type));
    const priority = column(jobs.map((j) => j.priority));
    const runAt = column(jobs.map((j) => j.runAt), (d) => d?.getTime() ?? null);
    const delayMs = column(jobs.map((j) => j.delayMs));
    const maxAttempts = column(jobs.map((j) => j.maxAttempts));
    const timeoutMs = column(jobs.map((j) => j.timeoutMs));
    const payloads = jobs.map((j) => j.payload);
    return [
      binary ? uuidArray(ids.bytes) : ids.text,
      binary ? textArray(payloads) : payloads,
      binary ? textArray(queue.each) : queue.each,
      queue.all,
      binary ? textArray(type.each) : type.each,
      type.all,
      binary ? int4Array(priority.each) : priority.each,
      priority.all,
      binary ? timestamptzArray(runAt.each) : runAt.each,
      runAt.all,
      binary ? float8Array(delayMs.each) : delayMs.each,
      delayMs.all,
      binary ? int4Array(maxAttempts.each) : maxAttempts.each,
      maxAttempts.all,
      binary ? int4Array(timeoutMs.each) : timeoutMs.each,
      timeoutMs.all,
      traceContext,
      channel,
      wake.queues,
      wake.at,
    ];
  },
);
