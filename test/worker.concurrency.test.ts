import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";
import { createExecutionsTable, overlappingExecutions, readExecutions, recordingHandler } from "./support/processes.js";
import { collect, gate } from "./support/worker.js";

// Several workers in one process share one table: every job runs exactly
// once, no two executions of a job overlap, and claim order follows priority,
// then run_at.

let db: TestSchema;
let queue: Queue;
let recorder: pg.Pool;
// A schema of its own for each test; the recorder pool ends once its workers stopped.
const bed = useTestBed("wc", { schemaPerTest: true, afterEachTest: () => recorder.end() });
const { workers } = bed;

beforeEach(async () => {
  ({ db, queue } = bed);
  await createExecutionsTable(db.pool, db.schema);
  recorder = new pg.Pool({ connectionString: db.url, max: 12 });
});

describe("workers sharing a table", () => {
  it("4 workers run 2,000 jobs: each exactly once, never two executions of one job at a time", async () => {
    const concurrency = [5, 7, 8, 10];
    const trouble: string[] = [];
    for (const [i, c] of concurrency.entries()) {
      const workerId = `w${i}`;
      const worker = bed.worker(
        { work: recordingHandler({ pool: recorder, schema: db.schema, workerId, jobMs: 0 }) },
        { workerId, concurrency: c },
      );
      worker.on("worker:error", (e) => trouble.push(`${workerId} ${e.during}: ${e.error.message}`));
      worker.on("job:lease-lost", (e) => trouble.push(`${workerId} lost ${e.job.id}`));
      worker.on("job:failed", (e) => trouble.push(`${workerId} failed ${e.job.id}: ${e.error.message}`));
    }
    const started = workers.map((w) => collect(w, "job:started"));
    await Promise.all(workers.map((w) => w.start()));

    const total = 2000;
    for (let batch = 0; batch < total / 500; batch++) {
      await queue.enqueueMany(Array.from({ length: 500 }, (_, i) => ({ type: "work", payload: batch * 500 + i, options: { priority: i % 3 } })));
    }
    await waitFor(async () => {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE status = 'succeeded'`);
      return rows[0].n === total;
    }, `${total} jobs to succeed`, 60_000);
    // The executions table is written by the handlers, the outcomes by the workers: wait for the last ends.
    await waitFor(async () => {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".executions WHERE finished_at IS NOT NULL`);
      return rows[0].n >= total;
    }, "every execution to be recorded as ended");

    const executions = await readExecutions(db.pool, db.schema);
    expect(executions).toHaveLength(total);
    expect(new Set(executions.map((e) => e.job_id)).size).toBe(total);
    expect(executions.every((e) => e.attempt === 1 && e.outcome === "returned")).toBe(true);
    expect(overlappingExecutions(executions)).toEqual([]);

    // The table agrees with the executions: each job finished by the worker that ran it, at attempt 1.
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM "${db.schema}".jobs j JOIN "${db.schema}".executions e ON e.job_id = j.id
       WHERE j.status = 'succeeded' AND j.attempts = 1 AND j.locked_by IS NULL AND j.result = jsonb_build_object('by', e.worker_id)`,
    );
    expect(rows[0].n).toBe(total);
    const { rows: statuses } = await db.pool.query(`SELECT status, count(*)::int AS n FROM "${db.schema}".jobs GROUP BY status`);
    expect(statuses).toEqual([{ status: "succeeded", n: total }]);
    expect(trouble).toEqual([]);
    // Every worker took part, and job:started fired once per job across them.
    expect(started.every((s) => s.length > 0)).toBe(true);
    expect(started.reduce((sum, s) => sum + s.length, 0)).toBe(total);
  });

  it("one worker with one slot runs jobs by priority, then run_at, then id", async () => {
    const order: string[] = [];
    const now = Date.now();
    // Mixed priorities and run_at values, all due, enqueued before the worker starts.
    // Enough that the worker claims batches of hundreds (its prefetch), whose order must hold too.
    const items = Array.from({ length: 3000 }, (_, i) => ({
      type: "ordered",
      payload: i,
      options: { priority: [0, 10, -5, 3, 7][i % 5]!, runAt: new Date(now - 600_000 + ((i * 7919) % 600) * 1000) },
    }));
    // Some ties on (priority, run_at), ordered by id.
    items.push(...Array.from({ length: 20 }, (_, i) => ({ type: "ordered", payload: 10_000 + i, options: { priority: 3, runAt: new Date(now - 700_000) } })));
    // Most in batches, some one by one.
    for (let i = 0; i < 3000; i += 1000) await queue.enqueueMany(items.slice(i, i + 1000));
    for (const item of items.slice(3000)) await queue.enqueue(item.type, item.payload, item.options);
    // With statistics (autovacuum gathers them soon enough) the planner joins a big claim by hashing,
    // and the UPDATE's rows no longer come back in claim order.
    await db.pool.query(`ANALYZE "${db.schema}".jobs`);

    const worker = bed.worker({ ordered: async (_p, ctx) => { order.push(ctx.job.id); } }, { concurrency: 1 });
    await worker.start();
    await waitFor(() => order.length === items.length, "every job to run");
    const { rows } = await db.pool.query(`SELECT id FROM "${db.schema}".jobs ORDER BY priority DESC, run_at, id`);
    const expected = rows.map((r: { id: string }) => r.id);
    const firstOutOfOrder = order.findIndex((id, i) => id !== expected[i]);
    expect(firstOutOfOrder).toBe(-1);
  });

  it("a higher-priority job enqueued later overtakes a backlog of lower ones", async () => {
    const order: number[] = [];
    const firstRunning = gate();
    const held = gate();
    const worker = bed.worker(
      {
        p: async (payload) => {
          const p = payload as number;
          order.push(p);
          if (p === 0) {
            firstRunning.open();
            await held.promise;
          }
        },
      },
      { concurrency: 1 },
    );
    await worker.start();
    await queue.enqueue("p", 0);
    await firstRunning.promise;
    await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: "p", payload: i + 1 })));
    await queue.enqueue("p", 99, { priority: 100 });
    held.open();
    await waitFor(() => order.length === 7, "all seven jobs to run");
    expect(order.slice(0, 2)).toEqual([0, 99]);
    expect(order.slice(2).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
