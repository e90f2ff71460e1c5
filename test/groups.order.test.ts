import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import type { JobContext, Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { countJobs, type TestSchema, waitFor } from "./support/db.js";
import { groupSampler, groupedExecutions, maxOverlap } from "./support/limits.js";
import { createExecutionsTable, overlappingExecutions, readExecutions, recordingHandler } from "./support/processes.js";

// Per-group limits hold across workers racing for a queue's groups: a group
// of limit 1 never runs two jobs at once and runs its jobs in enqueue order,
// whichever way they were enqueued; a limit of N never runs more than N of a
// group at once; a failing job keeps its group waiting until it is finished.

let db: TestSchema;
let queue: Queue;
let recorder: pg.Pool;
const bed = useTestBed("go", { schemaPerTest: true, afterEachTest: () => recorder.end() });

beforeEach(async () => {
  ({ db, queue } = bed);
  await createExecutionsTable(db.pool, db.schema);
  recorder = new pg.Pool({ connectionString: db.url, max: 24 });
});

const count = (where: string, values: unknown[] = []): Promise<number> => countJobs(db, where, values);

/** Starts `n` in-process workers of different sizes recording every execution; returns the trouble they report. */
async function startWorkers(sizes: readonly number[], jobMs: number): Promise<string[]> {
  const trouble: string[] = [];
  for (const [i, concurrency] of sizes.entries()) {
    const workerId = `w${i}`;
    const worker = bed.worker({ work: recordingHandler({ pool: recorder, schema: db.schema, workerId, jobMs }) }, { workerId, concurrency });
    worker.on("worker:error", (e) => trouble.push(`${workerId} ${e.during}: ${e.error.message}`));
    worker.on("job:lease-lost", (e) => trouble.push(`${workerId} lost ${e.job.id}`));
  }
  await Promise.all(bed.workers.map((w) => w.start()));
  return trouble;
}

describe("a group limit of 1", () => {
  it("runs each group's jobs one at a time and in enqueue order, with 4 workers racing", async () => {
    await queue.setLimits("events", { group: { concurrency: 1 } });
    const trouble = await startWorkers([3, 5, 8, 10], 3);
    const sampler = groupSampler(db.pool, db.schema, "events");

    // Jobs of 12 groups, interleaved, enqueued three ways: one bulk call,
    // single calls, and several statements of one transaction.
    const groups = Array.from({ length: 12 }, (_, g) => `tenant-${g}`);
    let seq = 0;
    const next = (group: string) => ({ type: "work", payload: { group, seq: seq++ }, options: { queue: "events", group } });
    await queue.enqueueMany(Array.from({ length: 120 }, (_, i) => next(groups[i % groups.length]!)));
    for (let i = 0; i < 36; i++) {
      const item = next(groups[i % groups.length]!);
      await queue.enqueue(item.type, item.payload, item.options);
    }
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      for (let i = 0; i < 36; i++) {
        const item = next(groups[i % groups.length]!);
        await queue.enqueue(item.type, item.payload, { ...item.options, client });
      }
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const total = seq;
    await waitFor(async () => (await count("status = 'succeeded'")) === total, `${total} jobs to succeed`, 120_000);
    const sampled = await sampler.stop();
    await waitFor(async () => (await readExecutions(db.pool, db.schema)).every((e) => e.finished_at !== null), "every execution to be recorded as ended");

    const executions = await groupedExecutions(db.pool, db.schema);
    expect(executions).toHaveLength(total);
    expect(overlappingExecutions(executions)).toEqual([]);
    for (const group of groups) {
      const mine = executions.filter((e) => e.group_key === group);
      expect(maxOverlap(mine), group).toBe(1);
      const bySeq = [...mine].sort((a, b) => a.seq - b.seq).map((e) => e.job_id);
      const byStart = [...mine].sort((a, b) => a.started_at.getTime() - b.started_at.getTime()).map((e) => e.job_id);
      expect(byStart, `${group} in enqueue order`).toEqual(bySeq);
    }
    expect(sampled).toBeLessThanOrEqual(1);
    // Groups ran side by side.
    expect(maxOverlap(executions)).toBeGreaterThan(1);
    expect(trouble).toEqual([]);
  });

  it("keeps a group waiting while its failed job waits for a retry, and moves on once it is finished", async () => {
    await queue.setLimits("events", { group: { concurrency: 1 } });
    const started: string[] = [];
    let failures = 0;
    bed.worker(
      {
        step: {
          handler: async (input: unknown) => {
            const payload = input as { name: string; fail: number };
            started.push(payload.name);
            if (payload.name === "a1" && failures < payload.fail) {
              failures++;
              throw new Error("not yet");
            }
          },
          backoff: { baseMs: 150, maxMs: 150, jitter: 0 },
        },
      },
      { concurrency: 4 },
    );
    await bed.workers[0]!.start();
    await queue.enqueueMany([
      { type: "step", payload: { name: "a1", fail: 2 }, options: { queue: "events", group: "a", maxAttempts: 5 } },
      { type: "step", payload: { name: "a2", fail: 0 }, options: { queue: "events", group: "a" } },
      { type: "step", payload: { name: "b1", fail: 0 }, options: { queue: "events", group: "b" } },
      { type: "step", payload: { name: "b2", fail: 0 }, options: { queue: "events", group: "b" } },
    ]);
    await waitFor(async () => (await count("status = 'succeeded'")) === 4, "4 jobs to succeed");
    // a1 ran three times (two failures) before a2 started; group b went on meanwhile.
    const ofA = started.filter((n) => n.startsWith("a"));
    expect(ofA).toEqual(["a1", "a1", "a1", "a2"]);
    expect(started.indexOf("b2")).toBeLessThan(started.lastIndexOf("a1"));
  });

  it("lets the next job of a group start once the previous one is dead", async () => {
    await queue.setLimits("events", { group: { concurrency: 1 } });
    const started: string[] = [];
    bed.worker(
      {
        step: {
          handler: async (input: unknown) => {
            const payload = input as string;
            started.push(payload);
            if (payload === "first") throw new Error("always");
          },
          backoff: { baseMs: 20, maxMs: 20, jitter: 0 },
        },
      },
      { concurrency: 4 },
    );
    await bed.workers[0]!.start();
    await queue.enqueueMany([
      { type: "step", payload: "first", options: { queue: "events", group: "g", maxAttempts: 2 } },
      { type: "step", payload: "second", options: { queue: "events", group: "g" } },
    ]);
    await waitFor(async () => (await count("status = 'succeeded'")) === 1, "the second job to succeed");
    expect(started).toEqual(["first", "first", "second"]);
    expect(await count("status = 'dead'")).toBe(1);
  });
});

describe("a group's order across a worker's shutdown", () => {
  it("keeps a job cut off by shutdown first in its group's line", async () => {
    await queue.setLimits("events", { group: { concurrency: 1 } });
    const started: string[] = [];
    let first = true;
    const step = async (input: unknown, ctx: JobContext) => {
      const name = input as string;
      started.push(name);
      if (name === "a1" && first) {
        first = false;
        // Hangs until shutdown aborts it.
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        throw ctx.signal.reason;
      }
    };
    const leaving = bed.worker({ step }, { concurrency: 2 });
    await leaving.start();
    await queue.enqueueMany(["a1", "a2", "a3"].map((name) => ({ type: "step", payload: name, options: { queue: "events", group: "a" } })));
    await waitFor(() => started.includes("a1"), "a1 to start");
    await leaving.stop({ timeoutMs: 50 });
    expect(await count("status = 'queued'")).toBe(3);
    const staying = bed.worker({ step }, { concurrency: 2 });
    await staying.start();
    await waitFor(async () => (await count("status = 'succeeded'")) === 3, "the three jobs to succeed");
    expect(started).toEqual(["a1", "a1", "a2", "a3"]);
  });
});

describe("a group limit of N", () => {
  it("never runs more than N jobs of a group at once, and reaches N", async () => {
    const limit = 3;
    await queue.setLimits("events", { group: { concurrency: limit } });
    const trouble = await startWorkers([4, 6, 8], 15);
    const sampler = groupSampler(db.pool, db.schema, "events");
    const groups = ["a", "b", "c", "d"];
    const total = 160;
    await queue.enqueueMany(
      Array.from({ length: total }, (_, i) => ({ type: "work", payload: { seq: i }, options: { queue: "events", group: groups[i % groups.length]! } })),
    );
    await waitFor(async () => (await count("status = 'succeeded'")) === total, `${total} jobs to succeed`, 120_000);
    const sampled = await sampler.stop();
    await waitFor(async () => (await readExecutions(db.pool, db.schema)).every((e) => e.finished_at !== null), "every execution to be recorded as ended");
    const executions = await groupedExecutions(db.pool, db.schema);
    expect(executions).toHaveLength(total);
    expect(sampled).toBeLessThanOrEqual(limit);
    const overlaps = groups.map((g) => maxOverlap(executions.filter((e) => e.group_key === g)));
    expect(Math.max(...overlaps)).toBeLessThanOrEqual(limit);
    expect(Math.max(...overlaps)).toBe(limit);
    expect(trouble).toEqual([]);
  });
});
