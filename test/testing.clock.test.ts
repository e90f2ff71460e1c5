import { describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { drain, expectEnqueued, testClock } from "../src/testing/index.js";
import { useTestBed } from "./support/bed.js";
import { jobRow } from "./support/worker.js";

const bed = useTestBed("tcl", { schemaPerTest: true });
const q = (): Queue => bed.queue;

describe("testClock", () => {
  it("makes a delayed job due once the clock passes its delay, and not before", async () => {
    const queue = q();
    const clock = testClock(queue);
    const { job } = await queue.enqueue("remind", { user: 1 }, { delayMs: 3_600_000 });
    const handlers = { remind: () => "sent" };
    expect((await drain(queue, handlers)).runs).toEqual([]);
    await clock.advance(1_800_000);
    expect((await drain(queue, handlers)).runs).toEqual([]);
    await clock.advance(1_800_000);
    expect((await drain(queue, handlers)).runs.map((r) => [r.job.id, r.outcome])).toEqual([[job.id, "succeeded"]]);
    expect(clock.advancedMs).toBe(3_600_000);
  });

  it("moves every waiting job by the same amount (claim order kept) and nothing else", async () => {
    const queue = q();
    const { db } = bed;
    const { job: late } = await queue.enqueue("t", {}, { delayMs: 10_000 });
    const { job: due } = await queue.enqueue("t", {});
    const { job: done } = await queue.enqueue("other", {});
    await drain(queue, { other: () => 1 });
    const before = await Promise.all([late, due, done].map((j) => jobRow(db.pool, db.schema, j.id)));
    expect(await testClock(queue).advance(60_000)).toBe(2);
    const after = await Promise.all([late, due, done].map((j) => jobRow(db.pool, db.schema, j.id)));
    expect(after[0].run_at.getTime()).toBe(before[0].run_at.getTime() - 60_000);
    expect(after[1].run_at.getTime()).toBe(before[1].run_at.getTime() - 60_000);
    expect(after[2].run_at.getTime()).toBe(before[2].run_at.getTime());
    for (const i of [0, 1, 2]) expect(after[i].created_at).toEqual(before[i].created_at);
    // Claim order is what it was: the job due first runs first.
    const { runs } = await drain(queue, { t: () => 1 });
    expect(runs.map((r) => r.job.id)).toEqual([due.id, late.id]);
  });

  it("runs schedule ticks at the virtual time", async () => {
    const queue = q();
    const clock = testClock(queue);
    await queue.schedule("hourly-report", "0 * * * *", "report", { kind: "hourly" });
    const handlers = { report: () => "ok" };
    // Whatever the time of day, exactly one hourly tick falls in the next hour.
    await clock.advance(3_600_000);
    const first = await drain(queue, handlers, { clock });
    expect(first.scheduled).toBe(1);
    expect(first.runs.map((r) => [r.job.type, r.job.payload, r.outcome])).toEqual([["report", { kind: "hourly" }, "succeeded"]]);
    // The same virtual time again: the tick was enqueued already.
    expect((await drain(queue, handlers, { clock })).scheduled).toBe(0);
    // A whole day at once: every tick, none skipped as late.
    await clock.advance(24 * 3_600_000);
    const day = await drain(queue, handlers, { clock });
    expect(day.scheduled).toBe(24);
    expect(day.counts.succeeded).toBe(24);
  });

  it("gives the virtual time to a Worker's runSchedules(clock.now())", async () => {
    const queue = q();
    const clock = testClock(queue);
    await queue.schedule("minutely", "* * * * *", "cleanup");
    // A single pass judges at one time: a tick up to a minute old is enqueued (older ones count as missed).
    await clock.advance(60_000);
    const worker = bed.worker({ cleanup: () => 1 }, { scheduler: false });
    const result = await worker.runSchedules(clock.now());
    expect(result).toEqual({ enqueued: 1, schedules: ["minutely"] });
    await expectEnqueued(queue, { type: "cleanup" });
  });

  it("validates the step", async () => {
    const clock = testClock(q());
    await expect(clock.advance(-1)).rejects.toMatchObject({ field: "ms" });
    await expect(clock.advance(1.5)).rejects.toMatchObject({ field: "ms" });
    expect(() => testClock({} as Queue)).toThrow(/djps Queue/);
  });
});
