import type { Statement } from "../db.js";
import { dateSchema } from "../options.js";
import type { Queue } from "../queue.js";
import { dueTicks, scheduleFromRow, tickKey } from "../schedule.js";
import { parse } from "../validate.js";

/** What one scheduler pass did. */
export interface SchedulerResult {
  /** Jobs created for due ticks (a tick another worker enqueued first counts there, not here). */
  enqueued: number;
  /** The schedules that had due ticks. */
  schedules: string[];
}

type RunSql = (sql: Statement, values: unknown[]) => Promise<any[]>;

/**
 * Recurring jobs: every worker runs this pass (every second by default). It
 * reads the schedules, works out each one's due ticks and enqueues one job per
 * tick with the idempotency key `schedule:<name>:<tick>`, so workers racing
 * on the same tick make one job between them, whatever their number and
 * however often they restart. Then it records the newest tick, so later
 * passes start after it.
 */
export class Scheduler {
  readonly #run: RunSql;
  readonly #sql: { list: Statement; advance: Statement };
  readonly #queue: Queue;

  constructor(run: RunSql, sql: { list: Statement; advance: Statement }, queue: Queue) {
    this.#run = run;
    this.#sql = sql;
    this.#queue = queue;
  }

  async runOnce(time?: Date): Promise<SchedulerResult> {
    // Ticks are judged by `now` and the newest is written back as a timestamptz.
    const now = time === undefined ? new Date() : parse(dateSchema, time, "now");
    const result: SchedulerResult = { enqueued: 0, schedules: [] };
    const rows = await this.#run(this.#sql.list, [null]);
    for (const row of rows) {
      const schedule = scheduleFromRow(row, now);
      const ticks = dueTicks(schedule, now);
      if (ticks.length === 0) continue;
      const options = { queue: schedule.queue, priority: schedule.priority, maxAttempts: schedule.maxAttempts, timeoutMs: schedule.timeoutMs ?? undefined };
      const results = await this.#queue.enqueueMany(
        ticks.map((tick) => ({ type: schedule.type, payload: schedule.payload, options: { ...options, idempotencyKey: tickKey(schedule.name, tick) } })),
      );
      await this.#run(this.#sql.advance, [schedule.name, ticks[ticks.length - 1]]);
      result.enqueued += results.filter((r) => r.created).length;
      result.schedules.push(schedule.name);
    }
    return result;
  }
}
