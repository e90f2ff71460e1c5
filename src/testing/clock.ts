import type { SchedulerResult } from "../maintenance/scheduler.js";
import { schedulerDuty } from "../maintenance/scheduler.js";
import { intSchema, MAX_INT } from "../options.js";
import type { Queue } from "../queue.js";
import { internalsOf } from "../queue-internals.js";
import { cronOf, MAX_TICKS_PER_PASS, scheduleFromRow } from "../schedule.js";
import { jobRunAtShift } from "../sql/jobRunAtShift.js";
import { scheduleList } from "../sql/scheduleList.js";
import { parse } from "../validate.js";

/** A virtual clock for one Queue's jobs and schedules; see `testClock`. */
export interface TestClock {
  /** The virtual time: this machine's time plus everything `advance` added. */
  now(): Date;
  /** Milliseconds added by `advance` so far. */
  readonly advancedMs: number;
  /**
   * Moves virtual time `ms` forward: every job waiting to run (`queued` or
   * `failed`, due or not) gets its `run_at` moved `ms` earlier, so a job that
   * was due within `ms` is due now, and the queue's workers are woken.
   * Resolves to how many jobs moved.
   */
  advance(ms: number): Promise<number>;
  /**
   * Enqueues the jobs of every schedule tick from the previous call (or the
   * clock's creation) up to `now()`, as workers running all along would have:
   * one scheduler pass judged at each tick's time, so no tick is skipped as
   * late. At most the newest 1,000 tick times are judged per call.
   */
  runSchedules(): Promise<SchedulerResult>;
}

/**
 * A clock for tests of delayed, retried and scheduled jobs that must not wait
 * in real time. It never fakes the time of the process or of PostgreSQL:
 * `advance(ms)` moves the waiting jobs' `run_at` back by `ms` instead (claims
 * compare `run_at` with the server's `now()`, unchanged), and `now()` is the
 * virtual time that `runSchedules()` judges schedule ticks by.
 *
 * What it does not move: running jobs and their leases, finished jobs,
 * `created_at` and the other timestamps, a handler's timeout, and jobs
 * enqueued after the call (their delay counts from the real time of their
 * enqueue). Every waiting job of the schema moves, whatever its queue: use
 * it on a schema of the test's own.
 *
 * @example
 * const clock = testClock(queue);
 * await queue.enqueue("reminder", {}, { delayMs: 3_600_000 });
 * await clock.advance(3_600_000);
 * await drain(queue, { reminder: remind });
 */
export function testClock(queue: Queue<any>): TestClock {
  const { sql, channel } = internalsOf(queue);
  const noop = () => {};
  let advancedMs = 0;
  const now = () => new Date(Date.now() + advancedMs);
  /** Virtual time up to which schedules were judged. */
  let judged = now().getTime();
  return {
    now,
    get advancedMs() {
      return advancedMs;
    },
    async advance(ms) {
      const step = parse(intSchema(0, MAX_INT), ms, "ms");
      const [row] = await jobRunAtShift(sql, { ms: step, channel });
      advancedMs += step;
      return row?.shifted ?? 0;
    },
    async runSchedules() {
      const until = now();
      const times = new Set<number>();
      for (const row of await scheduleList(sql, { name: null })) {
        const schedule = scheduleFromRow(row, until);
        const cron = cronOf(schedule.cron, schedule.timeZone);
        let next = cron.nextRun(new Date(judged));
        while (next && next.getTime() <= until.getTime()) {
          times.add(next.getTime());
          next = cron.nextRun(next);
        }
      }
      const duty = schedulerDuty({ sql, channel, logger: { debug: noop, info: noop, warn: noop, error: noop }, emit: noop, wake: noop }, 1000);
      const result: SchedulerResult = { enqueued: 0, schedules: [] };
      for (const time of [...times].sort((a, b) => a - b).slice(-MAX_TICKS_PER_PASS)) {
        const pass = await duty.runAt(new Date(time));
        result.enqueued += pass.enqueued;
        for (const name of pass.schedules) if (!result.schedules.includes(name)) result.schedules.push(name);
      }
      judged = until.getTime();
      return result;
    },
  };
}
