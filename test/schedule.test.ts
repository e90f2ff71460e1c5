import { beforeEach, describe, expect, it } from "vitest";
import { ValidationError, type Queue, type Worker, type WorkerOptions } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import type { TestSchema } from "./support/db.js";
import { nextEvent } from "./support/worker.js";

// Recurring jobs. Time is driven: runSchedules(now) judges ticks by the given
// time, and a schedule's last change (updated_at) is set by SQL where a test
// needs it in the past.

const bed = useTestBed("sch", { schemaPerTest: true, worker: { scheduler: false } });
let db: TestSchema;
let queue: Queue;
beforeEach(() => void ({ db, queue } = bed));

function worker(options: WorkerOptions = {}): Worker {
  return bed.worker({ noop: async () => {} }, options);
}

/** Pretends the schedule was last changed at `at`. */
async function changedAt(name: string, at: string): Promise<void> {
  await db.pool.query(`UPDATE "${db.schema}".schedules SET updated_at = $2, created_at = $2 WHERE name = $1`, [name, at]);
}

/** The scheduled jobs' ticks (from their idempotency keys), oldest first. */
async function ticks(): Promise<string[]> {
  const { rows } = await db.pool.query(`SELECT idempotency_key FROM "${db.schema}".jobs ORDER BY idempotency_key`);
  return rows.map((r) => r.idempotency_key.replace(/^schedule:[^:]+:/, ""));
}

describe("schedules", () => {
  it("are created, read, listed, replaced and removed", async () => {
    const created = await queue.schedule("nightly", "0 3 * * *", "build_report", { scope: "all" }, { timeZone: "Europe/Berlin", queue: "reports", priority: 5 });
    expect(created).toMatchObject({
      name: "nightly",
      cron: "0 3 * * *",
      timeZone: "Europe/Berlin",
      type: "build_report",
      payload: { scope: "all" },
      queue: "reports",
      priority: 5,
      maxAttempts: 3,
      timeoutMs: null,
      backfillMs: 0,
      lastTick: null,
    });
    expect(created.nextRunAt!.getTime()).toBeGreaterThan(Date.now());
    expect(await queue.getSchedule("nightly")).toEqual({ ...created, nextRunAt: expect.any(Date) });
    await queue.schedule("hourly", "@hourly", "ping");
    expect((await queue.listSchedules()).map((s) => s.name)).toEqual(["hourly", "nightly"]);

    const replaced = await queue.schedule("nightly", "30 4 * * 1-5", "build_report", null, { backfillMs: 3_600_000 });
    expect(replaced).toMatchObject({ cron: "30 4 * * 1-5", timeZone: "UTC", queue: "default", priority: 0, payload: null, backfillMs: 3_600_000 });
    expect(replaced.createdAt).toEqual(created.createdAt);
    expect(replaced.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());

    expect(await queue.unschedule("nightly")).toBe(true);
    expect(await queue.unschedule("nightly")).toBe(false);
    expect(await queue.getSchedule("nightly")).toBeNull();
  });

  it("refuse a bad cron, time zone, name or option before any SQL", async () => {
    const bad: Array<[() => Promise<unknown>, RegExp]> = [
      [() => queue.schedule("x", "61 * * * *", "t"), /`cron`/],
      [() => queue.schedule("x", "* * * *", "t"), /`cron`/],
      [() => queue.schedule("x", "0 0 1 1 * 2030 1", "t"), /`cron`/],
      [() => queue.schedule("x", "", "t"), /`cron`/],
      [() => queue.schedule("x", 5 as never, "t"), /`cron`/],
      [() => queue.schedule("x", "* * * * *", "t", {}, { timeZone: "Mars/Olympus" }), /`options\.timeZone`/],
      [() => queue.schedule("has space", "* * * * *", "t"), /`name`/],
      [() => queue.schedule("x", "* * * * *", "bad type"), /`type`/],
      [() => queue.schedule("x", "* * * * *", "t", { n: NaN }), /`payload\.n`/],
      [() => queue.schedule("x", "* * * * *", "t", {}, { backfillMs: -1 }), /`options\.backfillMs`/],
      [() => queue.schedule("x", "* * * * *", "t", {}, { runAt: new Date() } as never), /runAt/],
      [() => queue.unschedule(""), /`name`/],
      [() => worker().runSchedules(new Date("not a date")), /^Expected `now` to be a valid Date from 4713 BC on .*, got `Invalid Date` \(Date\)$/],
      [() => worker().runSchedules("2026-01-01" as never), /^Expected `now` to be a valid Date.*, got `"2026-01-01"` \(string\)$/],
      [() => worker().runSchedules(new Date(-8.64e15)), /^Expected `now` to be a valid Date from 4713 BC on/],
    ];
    for (const [call, field] of bad) {
      const error = await call().then(() => null, (e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toMatch(field);
    }
    expect(await queue.listSchedules()).toEqual([]);
  });

  it("make exactly one job per tick with many workers racing", async () => {
    await queue.schedule("every-minute", "* * * * *", "noop");
    await changedAt("every-minute", "2026-01-01T00:00:30Z");
    const racers = [worker(), worker(), worker(), worker()];
    for (let minute = 1; minute <= 5; minute++) {
      const now = new Date(Date.UTC(2026, 0, 1, 0, minute, 0, 400));
      await Promise.all(racers.flatMap((w) => [w.runSchedules(now), w.runSchedules(now)]));
    }
    expect(await ticks()).toEqual([1, 2, 3, 4, 5].map((m) => `2026-01-01T00:0${m}:00.000Z`));
    expect((await queue.getSchedule("every-minute"))!.lastTick).toEqual(new Date("2026-01-01T00:05:00Z"));
    // A pass at the same time again, or a restarted worker, adds nothing.
    expect((await worker().runSchedules(new Date("2026-01-01T00:05:00.400Z"))).enqueued).toBe(0);
    expect(await ticks()).toHaveLength(5);
  });

  it("make one job per tick while workers start and stop around tick boundaries", async () => {
    await queue.schedule("boundary", "* * * * *", "noop");
    await changedAt("boundary", "2026-01-01T00:00:30Z");
    for (let minute = 1; minute <= 4; minute++) {
      const tick = Date.UTC(2026, 0, 1, 0, minute);
      // A fresh set of started workers for each tick, as after a deploy. Their own
      // loops would judge ticks by the real clock, so the test drives the passes.
      const fleet = [worker(), worker(), worker()];
      await Promise.all(fleet.map((w) => w.start()));
      const before = await Promise.all(fleet.map((w) => w.runSchedules(new Date(tick - 100))));
      expect(before.every((r) => !r.schedules.includes("boundary"))).toBe(true);
      const around = await Promise.all(fleet.flatMap((w) => [0, 1, 100, 59_000].map((offset) => w.runSchedules(new Date(tick + offset)))));
      expect(around.reduce((sum, r) => sum + r.enqueued, 0)).toBe(1);
      await Promise.all(fleet.map((w) => w.stop()));
    }
    const { rows } = await db.pool.query(`SELECT idempotency_key FROM "${db.schema}".jobs WHERE idempotency_key LIKE 'schedule:boundary:%' ORDER BY 1`);
    expect(rows.map((r) => r.idempotency_key)).toEqual([1, 2, 3, 4].map((m) => `schedule:boundary:2026-01-01T00:0${m}:00.000Z`));
  });

  it("skip ticks missed while no worker ran, unless the backfill window covers them", async () => {
    await queue.schedule("hourly", "0 * * * *", "noop");
    await changedAt("hourly", "2026-01-01T00:00:30Z");
    // Workers come back at 05:00:10: the 05:00 tick is late, not missed; 01:00 to 04:00 are skipped.
    expect(await worker().runSchedules(new Date("2026-01-01T05:00:10Z"))).toEqual({ enqueued: 1, schedules: ["hourly"] });
    expect(await ticks()).toEqual(["2026-01-01T05:00:00.000Z"]);

    await queue.schedule("backfilled", "0 * * * *", "noop", null, { backfillMs: 3 * 3_600_000 + 60_000 });
    await changedAt("backfilled", "2026-01-01T00:00:30Z");
    expect((await worker().runSchedules(new Date("2026-01-01T05:00:10Z"))).enqueued).toBe(4);
    const { rows } = await db.pool.query(`SELECT idempotency_key FROM "${db.schema}".jobs WHERE idempotency_key LIKE 'schedule:backfilled:%' ORDER BY 1`);
    expect(rows.map((r) => r.idempotency_key)).toEqual(["02", "03", "04", "05"].map((h) => `schedule:backfilled:2026-01-01T${h}:00:00.000Z`));
  });

  it("read the cron expression in the schedule's time zone, across a DST change", async () => {
    await queue.schedule("berlin", "0 9 * * *", "noop", null, { timeZone: "Europe/Berlin", backfillMs: 4 * 24 * 3_600_000 });
    await changedAt("berlin", "2026-03-27T00:00:00Z");
    await worker().runSchedules(new Date("2026-03-30T12:00:00Z"));
    // 09:00 in Berlin is 08:00 UTC before the last Sunday of March, 07:00 UTC after it.
    expect(await ticks()).toEqual(["2026-03-27T08:00:00.000Z", "2026-03-28T08:00:00.000Z", "2026-03-29T07:00:00.000Z", "2026-03-30T07:00:00.000Z"]);
    expect((await queue.getSchedule("berlin"))!.nextRunAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it("enqueue jobs no running worker handles, with the schedule's job options", async () => {
    await queue.schedule("other", "*/10 * * * *", "not_handled_here", { a: 1 }, { queue: "elsewhere", priority: 7, maxAttempts: 9, timeoutMs: 5000 });
    await changedAt("other", "2026-01-01T00:00:00Z");
    await worker().runSchedules(new Date("2026-01-01T00:10:01Z"));
    const { rows } = await db.pool.query(`SELECT type, payload, queue, priority, max_attempts, timeout_ms, status FROM "${db.schema}".jobs`);
    expect(rows).toEqual([{ type: "not_handled_here", payload: { a: 1 }, queue: "elsewhere", priority: 7, max_attempts: 9, timeout_ms: 5000, status: "queued" }]);
  });

  it("are enqueued by a running worker's maintenance loop, and run", async () => {
    const w = worker({ scheduler: true, schedulerIntervalMs: 50 });
    const ran = nextEvent(w, "job:succeeded", ({ job }) => job.idempotencyKey?.startsWith("schedule:every-second:") === true, 15_000);
    await w.start();
    await queue.schedule("every-second", "* * * * * *", "noop");
    const { job } = await ran;
    expect(job.type).toBe("noop");
  });
});
