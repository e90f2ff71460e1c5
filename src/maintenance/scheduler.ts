import { dateSchema } from "../options.js";
import { dueTicks, scheduleFromRow, tickKey } from "../schedule.js";
import { scheduleList } from "../sql/scheduleList.js";
import { scheduleTick } from "../sql/scheduleTick.js";
import { loadTracing, startProducerSpan, tracingUnknown } from "../tracing.js";
import { uuidv7Batch } from "../uuid.js";
import { parse } from "../validate.js";
import type { Duty, DutyContext } from "./duty.js";

/** What one scheduler pass did. */
export interface SchedulerResult {
  /** Jobs created for due ticks (a tick another worker enqueued first counts there, not here). */
  enqueued: number;
  /** The schedules that had due ticks. */
  schedules: string[];
}

/** The scheduler duty, with a pass that can judge ticks by a given time (`worker.runSchedules(now)`). */
export interface SchedulerDuty extends Duty<SchedulerResult> {
  runAt(now: Date): Promise<SchedulerResult>;
}

/**
 * Recurring jobs: every worker runs this duty (every second by default, and
 * at start). A pass reads the schedules, works out each one's due ticks and,
 * per schedule, enqueues one job per tick and records the newest tick in one
 * statement (`scheduleTick`). Each job's idempotency key is
 * `schedule:<name>:<tick>`, so workers racing on the same tick make one job
 * between them, whatever their number and however often they restart.
 */
export function schedulerDuty(ctx: DutyContext, intervalMs: number): SchedulerDuty {
  const runAt = async (now: Date): Promise<SchedulerResult> => {
    const result: SchedulerResult = { enqueued: 0, schedules: [] };
    if (tracingUnknown()) await loadTracing();
    for (const row of await scheduleList(ctx.sql, { name: null })) {
      const schedule = scheduleFromRow(row, now);
      const ticks = dueTicks(schedule, now);
      if (ticks.length === 0) continue;
      const span = startProducerSpan(schedule.queue, schedule.type, ticks.length);
      // UUIDv7s in ascending order: the jobs of one pass are claimed in tick order.
      const ids = uuidv7Batch(ticks.length).text;
      const [written] = await scheduleTick(ctx.sql, {
        name: schedule.name,
        queue: schedule.queue,
        type: schedule.type,
        payload: JSON.stringify(schedule.payload),
        priority: schedule.priority,
        maxAttempts: schedule.maxAttempts,
        timeoutMs: schedule.timeoutMs,
        ids,
        keys: ticks.map((tick) => tickKey(schedule.name, tick)),
        lastTick: ticks[ticks.length - 1]!,
        channel: ctx.channel,
        traceContext: span?.traceContext ?? null,
        group: schedule.group,
      }).catch((error: unknown) => {
        span?.end([], error);
        throw error;
      });
      span?.end([]);
      result.enqueued += written!.created;
      result.schedules.push(schedule.name);
    }
    return result;
  };
  return {
    name: "schedule",
    doing: "enqueueing scheduled jobs",
    intervalMs,
    atStart: true,
    runOnce: () => runAt(new Date()),
    // Ticks are judged by `now` and the newest is written back as a timestamptz.
    runAt: (now) => runAt(parse(dateSchema, now, "now")),
    report(result) {
      if (result.enqueued === 0) return;
      ctx.logger.info({ ...result }, "enqueued the jobs of due schedule ticks");
      ctx.emit("jobs:scheduled", result);
    },
  };
}
