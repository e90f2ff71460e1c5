import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { countJobs, type TestSchema, waitFor } from "./support/db.js";
import { maxStartsPerWindow } from "./support/limits.js";
import { createExecutionsTable, readExecutions, recordingHandler } from "./support/processes.js";

// A rate limit holds across workers: no window of the interval's length holds
// more starts than the limit, as the jobs' `started_at` (written by the claim
// under the queue's row lock) records them. Removing it lets the queue drain
// at full speed.

let db: TestSchema;
let queue: Queue;
let recorder: pg.Pool;
const bed = useTestBed("lr", { schemaPerTest: true, afterEachTest: () => recorder.end() });

beforeEach(async () => {
  ({ db, queue } = bed);
  await createExecutionsTable(db.pool, db.schema);
  recorder = new pg.Pool({ connectionString: db.url, max: 12 });
});

const count = (where: string, values: unknown[] = []): Promise<number> => countJobs(db, where, values);

describe("a rate limit", () => {
  it("never lets more than its limit start in any window of its interval, with 3 workers racing", async () => {
    const rate = { limit: 5, intervalMs: 400 };
    await queue.setLimits("limited", { rate });
    for (let i = 0; i < 3; i++) {
      const workerId = `w${i}`;
      bed.worker({ work: recordingHandler({ pool: recorder, schema: db.schema, workerId, jobMs: 0 }) }, { workerId, concurrency: 4, pollIntervalMs: 50 });
    }
    await Promise.all(bed.workers.map((w) => w.start()));
    const total = 40;
    await queue.enqueueMany(Array.from({ length: total }, (_, i) => ({ type: "work", payload: i, options: { queue: "limited" } })));
    await waitFor(async () => (await count("status = 'succeeded'")) === total, `${total} jobs to succeed`, 60_000);

    const most = await maxStartsPerWindow(db.pool, db.schema, "limited", rate.intervalMs);
    expect(most).toBeLessThanOrEqual(rate.limit);
    expect(most).toBe(rate.limit);
    // Each job ran once, and no handler started before the start its job records.
    await waitFor(async () => (await readExecutions(db.pool, db.schema)).length === total, "every execution to be recorded");
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM "${db.schema}".executions e JOIN "${db.schema}".jobs j ON j.id = e.job_id WHERE e.started_at >= j.started_at`,
    );
    expect(rows[0].n).toBe(total);
    // The log on the queue's row keeps only the claims of the last interval.
    const { rows: log } = await db.pool.query(`SELECT cardinality(rate_at) AS n FROM "${db.schema}".queues WHERE name = 'limited'`);
    expect(log[0].n).toBeLessThanOrEqual(rate.limit);
  });

  it("wakes held-back workers when the window has room again, without polling", async () => {
    const rate = { limit: 3, intervalMs: 300 };
    await queue.setLimits("limited", { rate });
    // Polls far beyond the test's deadline: only notifications and the claim's own wait hint wake them.
    for (let i = 0; i < 2; i++) bed.worker({ t: async () => {} }, { concurrency: 4, pollIntervalMs: 600_000 });
    await Promise.all(bed.workers.map((w) => w.start()));
    await queue.enqueueMany(Array.from({ length: 15 }, (_, i) => ({ type: "t", payload: i, options: { queue: "limited" } })));
    await waitFor(async () => (await count("status = 'succeeded'")) === 15, "every job to run, a window at a time", 30_000);
    expect(await maxStartsPerWindow(db.pool, db.schema, "limited", rate.intervalMs)).toBe(rate.limit);
  });

  it("changes at run time, and removing it lets the backlog drain without waiting for windows", async () => {
    await queue.setLimits("limited", { rate: { limit: 2, intervalMs: 60_000 } });
    const worker = bed.worker({ t: async () => {} }, { concurrency: 10, pollIntervalMs: 60_000 });
    await worker.start();
    await queue.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ type: "t", payload: i, options: { queue: "limited" } })));
    await waitFor(async () => (await count("status = 'succeeded'")) === 2, "two jobs to run");
    // Within the minute, nothing more starts...
    await queue.enqueue("t", "nudge", { queue: "limited" });
    await waitFor(async () => (await count("status = 'queued'")) === 199, "the nudge to be queued");
    expect(await count("status = 'succeeded'")).toBe(2);
    // ...until the limit is raised: the change wakes the worker.
    await queue.setLimits("limited", { rate: { limit: 5, intervalMs: 60_000 } });
    await waitFor(async () => (await count("status = 'succeeded'")) === 5, "three more jobs to run once the limit is raised");
    expect(await maxStartsPerWindow(db.pool, db.schema, "limited", 60_000)).toBe(5);
    await queue.setLimits("limited", { rate: null });
    await waitFor(async () => (await count("status = 'succeeded'")) === 201, "the rest to run once the limit is removed");
    const { rows } = await db.pool.query(`SELECT rate_at FROM "${db.schema}".queues WHERE name = 'limited'`);
    expect(rows[0].rate_at).toEqual([]);
  });
});
