import { describe, expect, it } from "vitest";
import { ValidationError, type JobContext } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { StatementCountingPool } from "./support/counting-pool.js";
import { waitFor } from "./support/db.js";
import { collect, gate, nextEvent } from "./support/worker.js";

// ctx.progress(): a running job's progress, stored on the job, throttled, and
// the last value kept when the job ends.

const bed = useTestBed("wprog", { schemaPerTest: true, worker: { pollIntervalMs: 50 } });

describe("ctx.progress()", () => {
  it("stores the latest value on the running job, visible in getJob, and emits job:progress once written", async () => {
    const step = gate();
    const worker = bed.worker({
      long: async (_p, ctx) => {
        ctx.progress(10);
        ctx.progress({ done: 4, of: 10, stage: "copying" });
        await step.promise;
      },
    });
    const events = collect(worker, "job:progress");
    await worker.start();
    const { job } = await bed.queue.enqueue("long", null);
    const running = await waitFor(async () => {
      const j = await bed.queue.getJob(job.id);
      return j?.progress !== null && j?.progress !== undefined ? j : undefined;
    }, "the progress to be stored");
    expect(running).toMatchObject({ status: "running", progress: { done: 4, of: 10, stage: "copying" } });
    // Two calls within the interval: one write, of the latest value.
    expect(events.map((e) => e.progress)).toEqual([{ done: 4, of: 10, stage: "copying" }]);
    expect(events[0]!.job.id).toBe(job.id);
    step.open();
    await waitFor(async () => (await bed.queue.getJob(job.id))?.status === "succeeded", "the job to succeed");
  });

  it("writes a tight loop of reports a few times per second, and keeps the last value reported when the job ends", async () => {
    const pool = new StatementCountingPool(".job_progress(", { connectionString: bed.db.url, max: 6 });
    try {
      const worker = bed.worker(
        {
          loop: async (_p, ctx) => {
            const started = Date.now();
            let i = 0;
            // About 600 ms of reporting, tens of thousands of calls.
            while (Date.now() - started < 600) {
              ctx.progress(Math.min(99, i++ / 100));
              if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
            }
            ctx.progress(100);
            return i;
          },
        },
        { pool },
      );
      const succeeded = nextEvent(worker, "job:succeeded");
      await worker.start();
      const { job } = await bed.queue.enqueue("loop", null);
      const { result } = await succeeded;
      expect(result as number).toBeGreaterThan(1000);
      expect((await bed.queue.getJob(job.id))!.progress).toBe(100);
      // 600 ms at one write per 250 ms at most, plus the last value before the outcome.
      expect(pool.sent).toBeGreaterThanOrEqual(1);
      expect(pool.sent).toBeLessThanOrEqual(5);
    } finally {
      await bed.workers.at(-1)?.stop();
      await pool.end();
    }
  });

  it("refuses a value it cannot store with a ValidationError the handler can catch", async () => {
    const caught: unknown[] = [];
    const worker = bed.worker({
      bad: async (_p, ctx: JobContext) => {
        for (const value of [101, -1, Number.NaN, Infinity, undefined, "x".repeat(9000), { n: 1n }]) {
          try {
            ctx.progress(value);
          } catch (error) {
            caught.push(error);
          }
        }
        ctx.progress("fine");
      },
    });
    await worker.start();
    const { job } = await bed.queue.enqueue("bad", null);
    await waitFor(async () => (await bed.queue.getJob(job.id))?.status === "succeeded", "the job to succeed");
    expect(caught).toHaveLength(7);
    for (const error of caught) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toMatch(/^progress/);
    }
    expect((await bed.queue.getJob(job.id))!.progress).toBe("fine");
  });

  it("writes nothing for an attempt this worker no longer holds", async () => {
    const pool = new StatementCountingPool(".job_progress(", { connectionString: bed.db.url, max: 6 });
    const hold = gate();
    let ctxOf: JobContext | undefined;
    const worker = bed.worker(
      {
        lost: async (_p, ctx) => {
          ctxOf = ctx;
          await hold.promise;
        },
      },
      { pool },
    );
    try {
      await worker.start();
      const started = nextEvent(worker, "job:started");
      const progressed = collect(worker, "job:progress");
      const { job } = await bed.queue.enqueue("lost", null);
      await started;
      // Someone else takes the job over (as a rescue and a new claim would).
      await bed.db.pool.query(`UPDATE "${bed.db.schema}".jobs SET locked_by = 'other', attempts = attempts + 1 WHERE id = $1`, [job.id]);
      ctxOf!.progress(50);
      await waitFor(() => pool.done === 1, "the progress write to come back");
      expect((await bed.queue.getJob(job.id))!.progress).toBeNull();
      expect(progressed).toEqual([]);
      hold.open();
      await worker.stop();
    } finally {
      hold.open();
      await pool.end();
    }
  });
});
