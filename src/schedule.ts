import { Cron } from "croner";
import { z } from "zod";
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_QUEUE, enqueueOptionsShape, intSchema, nameSchema } from "./options.js";
import type { NewJob } from "./sql/jobRow.js";
import type { ScheduleRow } from "./sql/scheduleList.js";
import type { scheduleUpsert } from "./sql/scheduleUpsert.js";
import { parse } from "./validate.js";

/** A recurring job, as stored. */
export interface Schedule {
  /** The schedule's unique name (scheduling the same name again replaces it). */
  name: string;
  /** Five fields (minute hour day-of-month month day-of-week), six with seconds first, or a nickname like `@hourly`. */
  cron: string;
  /** IANA time zone the cron expression is read in. */
  timeZone: string;
  /** The job type each tick enqueues. */
  type: string;
  /** The payload of every job it enqueues. */
  payload: unknown;
  /** The named queue its jobs go to. */
  queue: string;
  /** The priority of its jobs (higher runs first). */
  priority: number;
  /** The `maxAttempts` of its jobs. */
  maxAttempts: number;
  /** The handler timeout of its jobs, in ms; null for the worker's own. */
  timeoutMs: number | null;
  /** Ticks missed while no worker ran are enqueued when at most this old (0: skipped). */
  backfillMs: number;
  /** The group of its jobs (see the `group` enqueue option), or null. */
  group: string | null;
  /** The newest tick enqueued so far. */
  lastTick: Date | null;
  /** The next tick after now. */
  nextRunAt: Date | null;
  /** When the schedule was first created. */
  createdAt: Date;
  /** When it was last created or replaced. */
  updatedAt: Date;
}

/** Options for `queue.schedule()`. */
export interface ScheduleOptions {
  /** IANA time zone for the cron expression. @default "UTC" */
  timeZone?: string;
  /** The named queue of the jobs. @default "default" */
  queue?: string;
  /** The priority of the jobs: higher runs first. @default 0 */
  priority?: number;
  /** Attempts each job gets before it is dead. @default 3 */
  maxAttempts?: number;
  /** Abort each job's handler after this many ms (overrides the worker's per-type timeout). @default the worker's */
  timeoutMs?: number;
  /** Enqueue ticks missed while every worker was down, if they are at most this old. @default 0 (skip them) */
  backfillMs?: number;
  /** The group of the jobs (see the `group` enqueue option and `setLimits`). @default none */
  group?: string;
}

/** A tick is late, not missed, for this long: a scheduler pass that comes a little late still enqueues it. */
export const LATE_TICK_MS = 60_000;

/** The most ticks one pass enqueues per schedule (a per-second schedule with a day of backfill would be 86,400). */
export const MAX_TICKS_PER_PASS = 1000;

const CRON_TEXT = "a cron expression: five fields (minute hour day-of-month month day-of-week), six with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly";

/** Parses a cron expression in a time zone; throws croner's error for a bad one. */
export function cronOf(expression: string, timeZone: string): Cron {
  return new Cron(expression, { timezone: timeZone, paused: true });
}

const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

const isCron = (expression: string) => {
  const trimmed = expression.trim();
  if (!/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(trimmed) && ![5, 6].includes(trimmed.split(/\s+/).length)) return false;
  try {
    cronOf(trimmed, "UTC");
    return true;
  } catch {
    return false;
  }
};

export const cronSchema = z.string({ error: CRON_TEXT }).refine(isCron, { error: CRON_TEXT });

export const scheduleOptionsSchema = z.strictObject(
  {
    timeZone: z.string({ error: "an IANA time zone name such as `Europe/Berlin`" }).refine(isTimeZone, { error: "an IANA time zone name such as `Europe/Berlin`" }).optional(),
    queue: enqueueOptionsShape.queue,
    priority: enqueueOptionsShape.priority,
    maxAttempts: enqueueOptionsShape.maxAttempts,
    timeoutMs: enqueueOptionsShape.timeoutMs,
    backfillMs: intSchema(0, 366 * 24 * 3_600_000).optional(),
    group: enqueueOptionsShape.group,
  },
  { error: "an options object { timeZone, queue, priority, maxAttempts, timeoutMs, backfillMs, group }" },
);

export { nameSchema as scheduleNameSchema };

/**
 * What `queue.schedule()` stores: the name, cron and options validated (in
 * that order, then the job `prepare` validates), with the defaults applied.
 */
export function defineSchedule(name: unknown, cron: unknown, options: unknown, prepare: () => NewJob): Parameters<typeof scheduleUpsert>[1] {
  const scheduleName = parse(nameSchema, name, "name");
  const expression = parse(cronSchema, cron, "cron").trim();
  const opts = parse(scheduleOptionsSchema, options, "options");
  const job = prepare();
  return {
    name: scheduleName,
    cron: expression,
    timeZone: opts.timeZone ?? "UTC",
    type: job.type,
    payload: job.payload,
    queue: opts.queue ?? DEFAULT_QUEUE,
    priority: opts.priority ?? 0,
    maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    timeoutMs: opts.timeoutMs ?? null,
    backfillMs: opts.backfillMs ?? 0,
    group: opts.group ?? null,
  };
}

/** A row of `schedules` as a Schedule, with its next tick after `now`. */
export function scheduleFromRow(row: ScheduleRow, now = new Date()): Schedule {
  return {
    name: row.name,
    cron: row.cron,
    timeZone: row.time_zone,
    type: row.type,
    payload: row.payload,
    queue: row.queue,
    priority: row.priority,
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    backfillMs: row.backfill_ms,
    group: row.group_key,
    lastTick: row.last_tick,
    nextRunAt: cronOf(row.cron, row.time_zone).nextRun(now),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The ticks of `schedule` to enqueue at `now`, oldest first: after its last
 * tick and after its last change, and no older than `max(backfillMs,
 * LATE_TICK_MS)`; at most MAX_TICKS_PER_PASS (the newest ones).
 */
export function dueTicks(schedule: Schedule, now: Date): Date[] {
  const floor = Math.max(
    schedule.lastTick?.getTime() ?? -Infinity,
    schedule.updatedAt.getTime(),
    now.getTime() - Math.max(schedule.backfillMs, LATE_TICK_MS),
  );
  const cron = cronOf(schedule.cron, schedule.timeZone);
  const ticks: Date[] = [];
  let next = cron.nextRun(new Date(floor));
  while (next && next.getTime() <= now.getTime()) {
    ticks.push(next);
    if (ticks.length > MAX_TICKS_PER_PASS) ticks.shift();
    next = cron.nextRun(next);
  }
  return ticks;
}

/** The idempotency key of a tick's job: the same for every worker, so a tick makes one job. */
export const tickKey = (name: string, tick: Date) => `schedule:${name}:${tick.toISOString()}`;
