import type { UuidBatch } from "../uuid.js";
import { float8Array, int4Array, textArray, timestamptzArray, uuidArray } from "./binaryArray.js";
import type { NewJob } from "./jobRow.js";

/**
 * A column of the batch as the bulk statements take it: `each` value in an
 * array, or, when all are the same, an empty array and that value as `all`
 * (`unnest` pads the shorter arrays with nulls, and the statements read
 * `COALESCE(u.column, all)`). Most batches give every job the same queue,
 * type and options, and a column sent once costs neither side anything per job.
 */
export function column<T>(values: readonly T[], key: (v: T) => unknown = (v) => v): { each: readonly T[]; all: T | null } {
  const first = key(values[0]!);
  for (let i = 1; i < values.length; i++) if (key(values[i]!) !== first) return { each: values, all: null };
  return { each: [], all: values[0] ?? null };
}

/**
 * The parameters $1 to $16 of the bulk insert statements (`jobInsertMany`,
 * `jobInsertKeyless`), which read them the same way: $1 the ids, $2 the
 * payloads, then for queue, type, priority, run_at, delay_ms, max_attempts
 * and timeout_ms an array ($3, $5, … $15) and a value for all ($4, $6, …
 * $16), as `column` makes them. With `binary`, the arrays go in PostgreSQL's
 * binary format (see binaryArray.ts); without, as JavaScript arrays for the
 * driver to send.
 */
export function batchColumns(ids: UuidBatch, jobs: readonly NewJob[], binary: boolean): unknown[] {
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
  ];
}
