/**
 * Helpers for in-process worker tests: waiting on a worker's events with a
 * deadline, gates a test opens to let a handler go on, and raw job rows with
 * the arithmetic the assertions need done in SQL.
 */
import type pg from "pg";
import type { Worker, WorkerEvents } from "../../src/index.js";

type EventName = keyof WorkerEvents & string;

/**
 * Resolves with the next `event` from `worker` that satisfies `match`.
 * Register it before the action that causes the event. Rejects after the deadline.
 */
export function nextEvent<K extends EventName>(
  worker: Worker<any>,
  event: K,
  match: (data: WorkerEvents[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<WorkerEvents[K]> {
  return new Promise((resolve, reject) => {
    const listener = (data: WorkerEvents[K]) => {
      if (!match(data)) return;
      clearTimeout(timer);
      worker.off(event, listener);
      resolve(data);
    };
    const timer = setTimeout(() => {
      worker.off(event, listener);
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for the worker's ${event} event`));
    }, timeoutMs);
    worker.on(event, listener);
  });
}

/** Collects every `event` a worker emits, for assertions at the end. */
export function collect<K extends EventName>(worker: Worker<any>, event: K): Array<WorkerEvents[K]> {
  const seen: Array<WorkerEvents[K]> = [];
  worker.on(event, (data) => seen.push(data));
  return seen;
}

/** A promise the test resolves when it wants a handler to go on. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * A job's row as stored, plus `delay_ms`: run_at - updated_at in milliseconds
 * (both written by one statement, so this is the delay the worker asked for).
 */
export async function jobRow(pool: pg.Pool, schema: string, id: string): Promise<any> {
  const { rows } = await pool.query(
    `SELECT *, extract(epoch FROM run_at - updated_at) * 1000 AS delay_ms FROM "${schema}".jobs WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (row) row.delay_ms = Number(row.delay_ms);
  return row;
}

/** Status of a job, straight from the table. */
export async function jobStatus(pool: pg.Pool, schema: string, id: string): Promise<string | undefined> {
  const { rows } = await pool.query(`SELECT status FROM "${schema}".jobs WHERE id = $1`, [id]);
  return rows[0]?.status;
}
