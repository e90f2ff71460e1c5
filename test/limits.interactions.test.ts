import { beforeEach, describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { countJobs, type TestSchema, waitFor } from "./support/db.js";

// How limits meet the rest (docs/flow-control.md): a failed job waiting for
// its retry does not count as running; a paused limited queue is not claimed
// and keeps its limits; a claim of an older worker (the five-argument claim)
// is held to the limits too; limited jobs never wait in a buffer.

const bed = useTestBed("li", { schemaPerTest: true });
let db: TestSchema;
let queue: Queue;
beforeEach(() => void ({ db, queue } = bed));

const count = (where: string, values: unknown[] = []): Promise<number> => countJobs(db, where, values);

describe("limits and", () => {
  it("retries: a failed job waiting for its retry does not hold the queue's only slot", async () => {
    await queue.setLimits("limited", { concurrency: 1 });
    const { job: failing } = await queue.enqueue("t", "fail", { queue: "limited", priority: 10 });
    const { job: next } = await queue.enqueue("t", "ok", { queue: "limited" });
    const worker = bed.worker(
      {
        t: async (payload) => {
          if (payload === "fail") throw new Error("try again in an hour");
        },
      },
      { concurrency: 5, backoff: { baseMs: 3_600_000, jitter: 0 } },
    );
    await worker.start();
    await waitFor(async () => (await queue.getJob(next.id))?.status === "succeeded", "the second job to run while the first waits for its retry");
    expect((await queue.getJob(failing.id))!.status).toBe("failed");
  });

  it("pause: a paused limited queue is not claimed, keeps its limits, and runs within them once resumed", async () => {
    await queue.setLimits("limited", { concurrency: 2 });
    await queue.pause("limited");
    await queue.enqueueMany(Array.from({ length: 6 }, (_, i) => ({ type: "hold", payload: i, options: { queue: "limited" } })));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let running = 0;
    let most = 0;
    const worker = bed.worker(
      {
        hold: async () => {
          most = Math.max(most, ++running);
          await released;
          running--;
        },
      },
      { concurrency: 5, pollIntervalMs: 60_000 },
    );
    await worker.start();
    await worker.rescueExpired();
    expect(await count("status = 'queued'")).toBe(6);
    expect(await queue.getLimits("limited")).toMatchObject({ concurrency: 2 });
    await queue.resume("limited");
    await waitFor(() => running === 2, "two jobs to run once resumed");
    expect(await count("status = 'running'")).toBe(2);
    release();
    await waitFor(async () => (await count("status = 'succeeded'")) === 6, "every job to run");
    expect(most).toBe(2);
  });

  it("older workers: the five-argument claim is held to the limits, and limited jobs are never buffered", async () => {
    await queue.setLimits("limited", { concurrency: 3 });
    await queue.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ type: "t", payload: i, options: { queue: "limited" } })));
    const claim5 = `SELECT id FROM "${db.schema}".job_claim(NULL, ARRAY['t'], 10, 'old', 30000)`;
    expect((await db.pool.query(claim5)).rows).toHaveLength(3);
    expect((await db.pool.query(claim5)).rows).toHaveLength(0);
    // The current claim asks for 2 free slots and 8 more for its buffer: it gets nothing, the queue is at its limit.
    const claim7 = `SELECT id, started_at FROM "${db.schema}".job_claim(NULL, ARRAY['t'], 10, 2, 'new', 30000, 5000)`;
    expect((await db.pool.query(claim7)).rows).toHaveLength(0);
    await queue.setLimits("limited", { concurrency: 6 });
    const { rows } = await db.pool.query(claim7);
    // Room for 3, but only 2 free slots: 2, both started; none held in a buffer.
    expect(rows).toHaveLength(2);
    expect(rows.every((r: { started_at: Date | null }) => r.started_at !== null)).toBe(true);
    expect(await count("status = 'running' AND started_at IS NULL")).toBe(0);
  });
});
