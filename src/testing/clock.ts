import { intSchema, MAX_INT } from "../options.js";
import type { Queue } from "../queue.js";
import { internalsOf } from "../queue-internals.js";
import { jobRunAtShift } from "../sql/jobRunAtShift.js";
import { parse } from "../validate.js";

/** A virtual clock for one Queue's jobs; see `testClock`. */
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
}

/**
 * A clock for tests of delayed, retried and scheduled jobs that must not wait
 * in real time. It never fakes the time of the process or of PostgreSQL:
 * `advance(ms)` moves the waiting jobs' `run_at` back by `ms` instead (claims
 * compare `run_at` with the server's `now()`, unchanged), and `now()` gives
 * the virtual time to judge schedule ticks by (`drain`'s `schedulesAt`, or
 * `worker.runSchedules(clock.now())`).
 *
 * What it does not move: running jobs and their leases, finished jobs,
 * `created_at` and the other timestamps, schedules' recorded ticks, a
 * handler's timeout, and jobs enqueued after the call (their delay counts
 * from the real time of their enqueue). Every waiting job of the schema
 * moves, whatever its queue: use it on a schema of the test's own.
 *
 * @example
 * const clock = testClock(queue);
 * await queue.enqueue("reminder", {}, { delayMs: 3_600_000 });
 * await clock.advance(3_600_000);
 * await drain(queue, { reminder: remind });
 */
export function testClock(queue: Queue<any>): TestClock {
  const { sql, channel } = internalsOf(queue);
  let advancedMs = 0;
  return {
    now: () => new Date(Date.now() + advancedMs),
    get advancedMs() {
      return advancedMs;
    },
    async advance(ms) {
      const step = parse(intSchema(0, MAX_INT), ms, "ms");
      const [row] = await jobRunAtShift(sql, { ms: step, channel });
      advancedMs += step;
      return row?.shifted ?? 0;
    },
  };
}
