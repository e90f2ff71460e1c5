import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import type { JobContext, Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { countJobs, type TestSchema, waitFor } from "./support/db.js";
import { maxOverlap, runningSampler } from "./support/limits.js";
import { createExecutionsTable, overlappingExecutions, readExecutions, recordingHandler } from "./support/processes.js";

// A queue's concurrency limit holds across workers racing for its jobs: the
// handlers' own records (start and end, on the database's clock) never
// overlap more than the limit, nor does the database ever count more running.
// Limits change at run time, and an unlimited queue beside a limited one
// runs at its own pace.

let db: TestSchema;
let queue: Queue;
let recorder: pg.Pool;
const bed = useTestBed("lc", { schemaPerTest: true, afterEachTest: () => recorder.end() });

beforeEach(async () => {
  ({ db, queue } = bed);
  await createExecutionsTable(db.pool, db.schema);
  recorder = new pg.Pool({ connectionString: db.url, max: 24 });
});

const count = (where: string, values: unknown[] = []): Promise<number> => countJobs(db, where, values);

describe("a concurrency limit", () => {
  it("holds for 4 workers racing on a limited queue, while an unlimited one beside it runs wider", async () => {
    const limit = 3;
    await queue.setLimits("limited", { concurrency: limit });
    const trouble: string[] = [];
    for (const [i, concurrency] of [5, 7, 8, 10].entries()) {
      const workerId = `w${i}`;
      const worker = bed.worker({ work: recordingHandler({ pool: recorder, schema: db.schema, workerId, jobMs: 5 }) }, { workerId, concurrency });
      worker.on("worker:error", (e) => trouble.push(`${workerId} ${e.during}: ${e.error.message}`));
      worker.on("job:lease-lost", (e) => trouble.push(`${workerId} lost ${e.job.id}`));
    }
    await Promise.all(bed.workers.map((w) => w.start()));
    const sampler = runningSampler(db.pool, db.schema, "limited");

    const total = 300;
    await queue.enqueueMany(Array.from({ length: total }, (_, i) => ({ type: "work", payload: i, options: { queue: "limited", priority: i % 3 } })));
    await queue.enqueueMany(Array.from({ length: total }, (_, i) => ({ type: "work", payload: i, options: { queue: "open" } })));
    await waitFor(async () => (await count("status = 'succeeded'")) === 2 * total, `${2 * total} jobs to succeed`, 120_000);
    const sampled = await sampler.stop();
    await waitFor(async () => (await readExecutions(db.pool, db.schema)).every((e) => e.finished_at !== null), "every execution to be recorded as ended");

    const executions = await readExecutions(db.pool, db.schema);
    expect(executions).toHaveLength(2 * total);
    expect(new Set(executions.map((e) => e.job_id)).size).toBe(2 * total);
    expect(overlappingExecutions(executions)).toEqual([]);
    const { rows } = await db.pool.query(`SELECT id, queue FROM "${db.schema}".jobs`);
    const queueOf = new Map(rows.map((r: { id: string; queue: string }) => [r.id, r.queue]));
    const limited = executions.filter((e) => queueOf.get(e.job_id) === "limited");
    const open = executions.filter((e) => queueOf.get(e.job_id) === "open");
    expect(maxOverlap(limited)).toBeLessThanOrEqual(limit);
    expect(sampled).toBeLessThanOrEqual(limit);
    // The limit was reached, and the unlimited queue was not held to it.
    expect(maxOverlap(limited)).toBe(limit);
    expect(maxOverlap(open)).toBeGreaterThan(limit);
    expect(trouble).toEqual([]);
  });

  it("changes at run time without a restart, and removing it lets every slot run", async () => {
    await queue.setLimits("limited", { concurrency: 2 });
    const running = new Set<string>();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const handler = async (_payload: unknown, ctx: JobContext) => {
      running.add(ctx.job.id);
      await released;
      running.delete(ctx.job.id);
    };
    // Long polls: only notifications (limit changes, completions) wake them.
    for (let i = 0; i < 2; i++) bed.worker({ hold: handler }, { concurrency: 5, pollIntervalMs: 60_000 });
    await Promise.all(bed.workers.map((w) => w.start()));
    const sampler = runningSampler(db.pool, db.schema, "limited");
    await queue.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ type: "hold", payload: i, options: { queue: "limited" } })));

    await waitFor(() => running.size === 2, "two jobs to run");
    await queue.setLimits("limited", { concurrency: 4 });
    await waitFor(() => running.size === 4, "four jobs to run once the limit is raised");
    expect(sampler.most).toBeLessThanOrEqual(4);
    await queue.setLimits("limited", null);
    await waitFor(() => running.size === 10, "every slot of both workers to run a job once the limit is removed");
    release();
    await waitFor(async () => (await count("status = 'succeeded'")) === 30, "every job to succeed");
    await sampler.stop();
  });

  it("wakes a held-back worker when a job of the queue finishes elsewhere, not at its next poll", async () => {
    await queue.setLimits("limited", { concurrency: 1 });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const ran: string[] = [];
    const first = bed.worker({ t: async () => { ran.push("first"); await released; } }, { concurrency: 1, pollIntervalMs: 60_000 });
    await first.start();
    await queue.enqueue("t", 1, { queue: "limited" });
    await waitFor(() => ran.length === 1, "the first job to run");
    const second = bed.worker({ t: async () => void ran.push("second") }, { concurrency: 1, pollIntervalMs: 60_000 });
    await second.start();
    await queue.enqueue("t", 2, { queue: "limited" });
    // The second worker is woken by the enqueue, finds no room, and waits.
    await waitFor(async () => (await count("status = 'queued'")) === 1, "the second job to wait");
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(["first"]);
    release();
    // Either worker may take it; neither polls within the test's deadline, so a notification woke one.
    await waitFor(async () => (await count("status = 'succeeded'")) === 2, "the second job to run once the first finished", 10_000);
  });
});
