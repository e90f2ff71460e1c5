import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Queue, ValidationError } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import type { TestSchema } from "./support/db.js";
import { createExecutionsTable, killAllChildren, spawnWorker } from "./support/processes.js";
import { gate, nextEvent } from "./support/worker.js";

// Pausing is cluster-wide and persisted: a row in `queues` that every claim
// reads. The tests use a worker in another process where it matters.

const bed = useTestBed("qp", { schemaPerTest: true });
let db: TestSchema;
let queue: Queue;
beforeEach(() => void ({ db, queue } = bed));
afterEach(async () => {
  await killAllChildren();
});

const statusOf = async (id: string) => (await queue.getJob(id))!.status;

describe("pause and resume", () => {
  it("persist in the database, and pausing twice keeps the first pausedAt", async () => {
    expect(await queue.pausedQueues()).toEqual([]);
    const first = await queue.pause("emails");
    expect(first).toMatchObject({ queue: "emails", paused: true });
    expect(first.pausedAt).toBeInstanceOf(Date);
    const again = await queue.pause("emails");
    expect(again.pausedAt).toEqual(first.pausedAt);
    await queue.pause("reports");

    // Another Queue (another process would do the same) sees it.
    const other = new Queue({ connectionString: db.url, schema: db.schema });
    try {
      expect(await other.pausedQueues()).toEqual([
        { queue: "emails", paused: true, pausedAt: first.pausedAt },
        { queue: "reports", paused: true, pausedAt: expect.any(Date) },
      ]);
      expect(await other.resume("emails")).toEqual({ queue: "emails", paused: false, pausedAt: null });
    } finally {
      await other.close();
    }
    expect((await queue.pausedQueues()).map((q) => q.queue)).toEqual(["reports"]);
    // Resuming a queue that runs is a no-op, not an error.
    expect(await queue.resume("never-paused")).toEqual({ queue: "never-paused", paused: false, pausedAt: null });
  });

  it("refuse a bad queue name before any SQL", async () => {
    for (const bad of ["", "has space", "x".repeat(129), 7, null]) {
      await expect(queue.pause(bad as string)).rejects.toThrow(ValidationError);
      await expect(queue.resume(bad as string)).rejects.toThrow(ValidationError);
    }
    await expect(queue.pause("has space")).rejects.toThrow(/`name`/);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".queues`);
    expect(rows[0].n).toBe(0);
  });

  it("show in stats, also for a paused queue without jobs", async () => {
    await queue.enqueue("t", {}, { queue: "a" });
    await queue.pause("a");
    await queue.pause("empty");
    const stats = await queue.stats();
    expect(stats.queues.map((q) => [q.queue, q.paused, q.total])).toEqual([
      ["a", true, 1],
      ["empty", true, 0],
    ]);
  });

  it("a paused queue keeps accepting jobs; no worker process claims them until resumed, and resume wakes it", async () => {
    await createExecutionsTable(db.pool, db.schema);
    await queue.pause("held");
    // The held job comes first in claim order: a claim that ignored the pause would take it before the open one.
    const held = (await queue.enqueue("work", {}, { queue: "held", priority: 5 })).job;
    expect(held.status).toBe("queued");
    // A poll interval far beyond the deadlines below: only notifications wake this worker.
    const child = await spawnWorker({ url: db.url, schema: db.schema, workerId: "child", concurrency: 4, pollMs: 600_000 });
    const open = (await queue.enqueue("work", {}, { queue: "default" })).job;
    await child.waitFor((e) => e.event === "succeeded" && e.id === open.id, "the open queue's job to succeed", 15_000);
    expect(await statusOf(held.id)).toBe("queued");
    expect(child.events.some((e) => e.id === held.id)).toBe(false);

    await queue.resume("held");
    await child.waitFor((e) => e.event === "succeeded" && e.id === held.id, "the resumed queue's job to succeed", 15_000);
    expect(await statusOf(held.id)).toBe("succeeded");
  });

  it("lets running jobs finish", async () => {
    const started = gate();
    const finish = gate();
    const worker = bed.worker(
      {
        slow: async () => {
          started.open();
          await finish.promise;
          return "finished";
        },
      },
      { concurrency: 2 },
    );
    await worker.start();
    try {
      const { job } = await queue.enqueue("slow", {}, { queue: "q" });
      await started.promise;
      await queue.pause("q");
      const succeeded = nextEvent(worker, "job:succeeded", (e) => e.job.id === job.id);
      finish.open();
      await succeeded;
      expect(await queue.getJob(job.id)).toMatchObject({ status: "succeeded", result: "finished" });
    } finally {
      await worker.stop();
    }
  });
});
