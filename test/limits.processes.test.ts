import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { countJobs, type TestSchema, waitFor } from "./support/db.js";
import { maxOverlap, runningSampler } from "./support/limits.js";
import { createExecutionsTable, killAllChildren, overlappingExecutions, readExecutions, recordingHandler, spawnWorker } from "./support/processes.js";

// Limits hold across processes: worker child processes and an in-process
// worker race on one limited queue. A worker process killed while it holds
// the queue's capacity gives it back when its leases pass, and the survivor
// finishes the work.

let db: TestSchema;
let queue: Queue;
let recorder: pg.Pool;
const bed = useTestBed("lp", { schemaPerTest: true, afterEachTest: () => recorder.end() });

beforeEach(async () => {
  ({ db, queue } = bed);
  await createExecutionsTable(db.pool, db.schema);
  recorder = new pg.Pool({ connectionString: db.url, max: 8 });
});
afterEach(async () => {
  await killAllChildren();
});

const count = (where: string, values: unknown[] = []): Promise<number> => countJobs(db, where, values);

describe("limits across processes", () => {
  it("two worker processes and an in-process worker never run more than the limit at once; each job runs once", async () => {
    const limit = 4;
    await queue.setLimits("limited", { concurrency: limit });
    const children = await Promise.all(
      ["p0", "p1"].map((workerId) => spawnWorker({ url: db.url, schema: db.schema, workerId, concurrency: 5, jobMs: 10 })),
    );
    const local = bed.worker({ work: recordingHandler({ pool: recorder, schema: db.schema, workerId: "local", jobMs: 10 }) }, { workerId: "local", concurrency: 5 });
    await local.start();
    const sampler = runningSampler(db.pool, db.schema, "limited");
    const total = 200;
    await queue.enqueueMany(Array.from({ length: total }, (_, i) => ({ type: "work", payload: i, options: { queue: "limited" } })));
    await waitFor(async () => (await count("status = 'succeeded'")) === total, `${total} jobs to succeed`, 120_000);
    const sampled = await sampler.stop();
    await waitFor(async () => {
      const executions = await readExecutions(db.pool, db.schema);
      return executions.length === total && executions.every((e) => e.finished_at !== null);
    }, "every execution to be recorded as ended");

    const executions = await readExecutions(db.pool, db.schema);
    expect(new Set(executions.map((e) => e.job_id)).size).toBe(total);
    expect(overlappingExecutions(executions)).toEqual([]);
    expect(maxOverlap(executions)).toBeLessThanOrEqual(limit);
    expect(sampled).toBeLessThanOrEqual(limit);
    // Every process took part.
    expect(new Set(executions.map((e) => e.worker_id))).toEqual(new Set(["p0", "p1", "local"]));
    expect(children.every((c) => c.alive)).toBe(true);
  });

  it("a killed worker process holds the capacity only until its leases pass; the survivor then finishes every job", async () => {
    const limit = 3;
    await queue.setLimits("limited", { concurrency: limit });
    // Jobs in the doomed process work for ten minutes: they end only by its death.
    const doomed = await spawnWorker({ url: db.url, schema: db.schema, workerId: "doomed", concurrency: 5, jobMs: 600_000, leaseMs: 3000, heartbeatMs: 1000 });
    await queue.enqueueMany(Array.from({ length: 6 }, (_, i) => ({ type: "work", payload: i, options: { queue: "limited" } })));
    await waitFor(() => doomed.events.filter((e) => e.event === "job").length === limit, "the doomed worker to start as many jobs as the limit allows");

    // The survivor, started while the capacity is taken, runs nothing.
    const survivor = bed.worker(
      { work: recordingHandler({ pool: recorder, schema: db.schema, workerId: "survivor", jobMs: 0 }) },
      { workerId: "survivor", concurrency: 5, rescue: { intervalMs: 200 }, pollIntervalMs: 200 },
    );
    await survivor.start();
    await survivor.rescueExpired();
    expect(await count("status = 'queued'")).toBe(6 - limit);
    expect(await count("status = 'running'")).toBe(limit);

    doomed.kill("SIGKILL");
    await doomed.exited;
    // Where the dead worker's leases end: no heartbeat will move them again.
    const { rows: held } = await db.pool.query(`SELECT id, locked_until FROM "${db.schema}".jobs WHERE status = 'running' AND locked_by = 'doomed'`);
    expect(held).toHaveLength(limit);
    const leaseEnd = new Map<string, Date>(held.map((r: { id: string; locked_until: Date }) => [r.id, r.locked_until]));
    const firstLeaseEnd = Math.min(...[...leaseEnd.values()].map((d) => d.getTime()));
    await waitFor(async () => (await count("status = 'succeeded'")) === 6, "the survivor to finish every job", 60_000);

    const executions = await readExecutions(db.pool, db.schema);
    const survivors = executions.filter((e) => e.worker_id === "survivor");
    // 3 jobs never started plus the 3 the doomed worker was running (charged an attempt, then retried).
    expect(survivors).toHaveLength(6);
    // Nothing ran in the survivor before the first of the dead worker's leases had passed.
    expect(Math.min(...survivors.map((e) => e.started_at.getTime()))).toBeGreaterThanOrEqual(firstLeaseEnd);
    // The dead worker's executions count as running until their lease ended: never more than the limit at once.
    const ended = executions.map((e) => (e.finished_at === null ? { ...e, finished_at: leaseEnd.get(e.job_id)! } : e));
    expect(ended.filter((e) => e.worker_id === "doomed")).toHaveLength(limit);
    expect(maxOverlap(ended)).toBeLessThanOrEqual(limit);
  });
});
