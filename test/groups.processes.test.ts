import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { countJobs, type TestSchema, waitFor } from "./support/db.js";
import { groupSampler, groupedExecutions, maxOverlap } from "./support/limits.js";
import { createExecutionsTable, killAllChildren, recordingHandler, spawnWorker } from "./support/processes.js";

// Groups across processes: worker child processes and an in-process worker
// race on a queue of serial groups; a worker process killed in the middle of
// a group's job keeps that group waiting until the job itself runs again;
// and one huge group does not hold back the first job of a new group.

let db: TestSchema;
let queue: Queue;
let recorder: pg.Pool;
const bed = useTestBed("gp", { schemaPerTest: true, afterEachTest: () => recorder.end() });

beforeEach(async () => {
  ({ db, queue } = bed);
  await createExecutionsTable(db.pool, db.schema);
  recorder = new pg.Pool({ connectionString: db.url, max: 8 });
});
afterEach(async () => {
  await killAllChildren();
});

const count = (where: string, values: unknown[] = []): Promise<number> => countJobs(db, where, values);

/** Asserts each group ran one job at a time, in enqueue (`seq`) order, counting only finished executions plus `open` ones. */
function expectSerialInOrder(executions: Awaited<ReturnType<typeof groupedExecutions>>, groups: readonly string[]): void {
  for (const group of groups) {
    const mine = executions.filter((e) => e.group_key === group);
    expect(maxOverlap(mine), `${group} ran one job at a time`).toBe(1);
    const seqs = [...mine].sort((a, b) => a.started_at.getTime() - b.started_at.getTime()).map((e) => e.seq);
    // Each start is at or after the one before in enqueue order (a job that ran twice starts twice in a row).
    expect(seqs, `${group} in enqueue order`).toEqual([...seqs].sort((a, b) => a - b));
  }
}

describe("groups across processes", () => {
  it("two worker processes and an in-process worker run each serial group one job at a time, in order; each job once", async () => {
    await queue.setLimits("events", { group: { concurrency: 1 } });
    const children = await Promise.all(["p0", "p1"].map((workerId) => spawnWorker({ url: db.url, schema: db.schema, workerId, concurrency: 4, jobMs: 3 })));
    bed.worker({ work: recordingHandler({ pool: recorder, schema: db.schema, workerId: "local", jobMs: 3 }) }, { workerId: "local", concurrency: 4 });
    await bed.workers[0]!.start();
    const sampler = groupSampler(db.pool, db.schema, "events");
    const groups = Array.from({ length: 10 }, (_, g) => `acct-${g}`);
    const total = 200;
    await queue.enqueueMany(Array.from({ length: total }, (_, i) => ({ type: "work", payload: { seq: i }, options: { queue: "events", group: groups[i % 10]! } })));
    await waitFor(async () => (await count("status = 'succeeded'")) === total, `${total} jobs to succeed`, 120_000);
    const sampled = await sampler.stop();
    await waitFor(async () => (await groupedExecutions(db.pool, db.schema)).every((e) => e.finished_at !== null), "every execution to end");
    const executions = await groupedExecutions(db.pool, db.schema);
    expect(executions).toHaveLength(total);
    expect(new Set(executions.map((e) => e.job_id)).size).toBe(total);
    expectSerialInOrder(executions, groups);
    expect(sampled).toBe(1);
    expect(new Set(executions.map((e) => e.worker_id))).toEqual(new Set(["p0", "p1", "local"]));
    expect(children.every((c) => c.alive)).toBe(true);
  });

  it("a worker process killed during a group's job: the group waits until that job runs again, then goes on in order", async () => {
    await queue.setLimits("events", { group: { concurrency: 1 } });
    // The victim takes the first job of the group and hangs in it.
    const victim = await spawnWorker({ url: db.url, schema: db.schema, workerId: "victim", concurrency: 2, jobMs: 600_000, leaseMs: 1500, heartbeatMs: 500 });
    await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: "work", payload: { seq: i }, options: { queue: "events", group: "g" } })));
    await victim.waitFor((e) => e.event === "job", "the victim to start the group's first job");
    victim.kill("SIGKILL");
    await victim.exited;
    // A survivor that rescues quickly: the killed job is the group's next once its lease passed.
    const survivor = await spawnWorker({ url: db.url, schema: db.schema, workerId: "survivor", concurrency: 4, jobMs: 5, leaseMs: 1500, rescueMs: 200 });
    await waitFor(async () => (await count("status = 'succeeded'")) === 5, "the group's five jobs to succeed", 60_000);
    const executions = await groupedExecutions(db.pool, db.schema);
    const killed = executions.filter((e) => e.worker_id === "victim");
    expect(killed).toHaveLength(1);
    expect(killed[0]!.seq).toBe(0);
    expect(killed[0]!.finished_at).toBeNull();
    // The survivor ran seq 0 again first, then the rest, one at a time, each once.
    const ran = executions.filter((e) => e.worker_id === "survivor").sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
    expect(ran.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(maxOverlap(ran)).toBe(1);
    expect(ran[0]!.started_at.getTime()).toBeGreaterThanOrEqual(killed[0]!.started_at.getTime());
    expect(survivor.alive).toBe(true);
  });
});

describe("fairness across groups", () => {
  it("starts the first job of each of 20 new groups before one huge group starts more than a few more", async () => {
    const concurrency = 4;
    // No group limit: the big group could take every slot, but claims go round the groups.
    bed.worker({ work: recordingHandler({ pool: recorder, schema: db.schema, workerId: "w", jobMs: 2 }) }, { workerId: "w", concurrency });
    const big = 5_000;
    await queue.enqueueMany(Array.from({ length: big }, (_, i) => ({ type: "work", payload: { seq: i }, options: { queue: "events", group: "big" } })));
    await bed.workers[0]!.start();
    await waitFor(async () => (await count("status = 'succeeded'")) >= 100, "the big group to be under way");

    await queue.enqueueMany(Array.from({ length: 20 }, (_, g) => ({ type: "work", payload: { seq: big + g }, options: { queue: "events", group: `new-${g}` } })));
    const { rows } = await db.pool.query(`SELECT clock_timestamp() AS at`);
    const enqueuedAt: Date = rows[0].at;
    await waitFor(async () => (await count("group_key LIKE 'new-%' AND status = 'succeeded'")) === 20, "every new group's job to run");
    const { rows: stats } = await db.pool.query(
      `SELECT (SELECT max(started_at) FROM "${db.schema}".jobs WHERE group_key LIKE 'new-%') AS last_new,
              (SELECT count(*)::int FROM "${db.schema}".jobs WHERE group_key = 'big' AND started_at > $1
                 AND started_at < (SELECT max(started_at) FROM "${db.schema}".jobs WHERE group_key LIKE 'new-%')) AS big_between`,
      [enqueuedAt],
    );
    // Claims in flight when the new jobs arrived may still take the big
    // group's jobs (one per free slot); after that every claim visits the
    // groups in turn, the big one once per round of the 21.
    expect(stats[0].big_between).toBeLessThanOrEqual(2 * concurrency);
    // And the big group was far from done: without fairness the new jobs would have waited for it.
    expect(await count("group_key = 'big' AND status = 'queued'")).toBeGreaterThan(big / 2);
  });
});
