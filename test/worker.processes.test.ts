import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Queue, Worker, WorkerEvents } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, within, type TestSchema } from "./support/db.js";
import {
  createExecutionsTable,
  killAllChildren,
  overlappingExecutions,
  readExecutions,
  recordingHandler,
  spawnWorker,
  type ChildWorker,
  type Execution,
} from "./support/processes.js";

// Workers in this process and in child processes sharing one database, and
// child workers ended by SIGKILL and SIGTERM. Each test gets a schema of its
// own with an executions side table, where every handler records each run.

let db: TestSchema;
let queue: Queue;
let recorder: pg.Pool;
// The recorder pool ends once the test's in-process workers stopped.
const bed = useTestBed("wp", { schemaPerTest: true, afterEachTest: () => recorder.end() });

beforeEach(async () => {
  ({ db, queue } = bed);
  await createExecutionsTable(db.pool, db.schema);
  recorder = new pg.Pool({ connectionString: db.url, max: 8 });
});

afterEach(async () => {
  // Whatever happened in the test: no child outlives it (then the test bed stops the in-process workers).
  await killAllChildren();
});

/** Problems an in-process worker reported (errors, lost leases), for assertions. */
type Trouble = { workerId: string; what: string };

/** Starts an in-process worker running the recording handler; `stop` happens in afterEach. */
async function startInProcess(
  workerId: string,
  options: { jobMs?: number; concurrency?: number; rescueIntervalMs?: number; leaseMs?: number },
  trouble: Trouble[] = [],
): Promise<Worker> {
  const worker = bed.worker(
    { work: recordingHandler({ pool: recorder, schema: db.schema, workerId, jobMs: options.jobMs ?? 0 }) },
    {
      workerId,
      concurrency: options.concurrency ?? 10,
      leaseMs: options.leaseMs ?? 30_000,
      ...(options.rescueIntervalMs ? { rescueIntervalMs: options.rescueIntervalMs } : {}),
    },
  );
  worker.on("worker:error", ({ during, error }: WorkerEvents["worker:error"]) => trouble.push({ workerId, what: `error ${during}: ${error.message}` }));
  worker.on("job:lease-lost", ({ job }: WorkerEvents["job:lease-lost"]) => trouble.push({ workerId, what: `lease lost: ${job.id}` }));
  await worker.start();
  return worker;
}

async function enqueueWork(count: number, priority: (i: number) => number = () => 0): Promise<string[]> {
  const results = await queue.enqueueMany(Array.from({ length: count }, (_, i) => ({ type: "work", payload: { i }, options: { priority: priority(i) } })));
  return results.map((r) => r.job.id);
}

async function countByStatus(): Promise<Record<string, number>> {
  const { rows } = await db.pool.query(`SELECT status, count(*)::int AS n FROM "${db.schema}".jobs GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function jobRows(ids?: string[]): Promise<Map<string, any>> {
  const { rows } = ids
    ? await db.pool.query(`SELECT * FROM "${db.schema}".jobs WHERE id = ANY($1::uuid[])`, [ids])
    : await db.pool.query(`SELECT * FROM "${db.schema}".jobs`);
  return new Map(rows.map((r) => [r.id, r]));
}

const jobEvents = (c: ChildWorker): string[] => c.events.filter((e) => e.event === "job").map((e) => e.id as string);

function groupByJob(executions: readonly Execution[]): Map<string, Execution[]> {
  const byJob = new Map<string, Execution[]>();
  for (const e of executions) byJob.set(e.job_id, [...(byJob.get(e.job_id) ?? []), e]);
  return byJob;
}

describe("workers in several processes", () => {
  it("2 in-process workers and 2 child processes share 2,000 jobs: each succeeds exactly once, never claimed twice at once", async () => {
    const JOBS = 2000;
    const trouble: Trouble[] = [];
    const t0 = Date.now();
    const [childA, childB] = await Promise.all(
      ["child-a", "child-b"].map((workerId) => spawnWorker({ url: db.url, schema: db.schema, workerId, concurrency: 8, jobMs: 3 })),
    );
    await startInProcess("local-a", { concurrency: 8, jobMs: 3 }, trouble);
    await startInProcess("local-b", { concurrency: 8, jobMs: 3 }, trouble);

    // One statement: all 2,000 become claimable at the same commit, in three priority tiers.
    const tier = (i: number) => [0, 5, 10][i % 3]!;
    const ids = await enqueueWork(JOBS, tier);
    expect(new Set(ids).size).toBe(JOBS);

    const t1 = Date.now();
    await waitFor(async () => (await countByStatus()).succeeded === JOBS, `${JOBS} jobs to succeed`, 30_000);
    const t2 = Date.now();

    // The jobs table: every job succeeded once, by the worker that ran it.
    const jobs = await jobRows();
    expect(jobs.size).toBe(JOBS);
    const executions = await readExecutions(db.pool, db.schema);
    const byJob = groupByJob(executions);
    const problems: string[] = [];
    for (const job of jobs.values()) {
      const runs = byJob.get(job.id) ?? [];
      if (job.status !== "succeeded" || job.attempts !== 1) problems.push(`${job.id}: ${job.status} after ${job.attempts} attempts`);
      if (runs.length !== 1) problems.push(`${job.id}: ${runs.length} executions`);
      else if (runs[0]!.finished_at === null || runs[0]!.outcome !== "returned") problems.push(`${job.id}: execution did not finish`);
      else if (job.result?.by !== runs[0]!.worker_id || job.locked_by !== null) {
        problems.push(`${job.id}: ran on ${runs[0]!.worker_id}, result ${JSON.stringify(job.result)}, still locked by ${job.locked_by}`);
      }
    }
    expect(problems).toEqual([]);
    expect(executions).toHaveLength(JOBS);
    expect(overlappingExecutions(executions)).toEqual([]);

    // Every worker, in this process and in the children, took part.
    const perWorker = new Map<string, number>();
    for (const e of executions) perWorker.set(e.worker_id, (perWorker.get(e.worker_id) ?? 0) + 1);
    expect([...perWorker.keys()].sort()).toEqual(["child-a", "child-b", "local-a", "local-b"]);
    for (const n of perWorker.values()) expect(n).toBeGreaterThan(0);
    expect(jobEvents(childA!).length).toBe(perWorker.get("child-a"));
    expect(jobEvents(childB!).length).toBe(perWorker.get("child-b"));

    // Priorities: with every job visible at once, no job of the lowest tier is
    // claimed before the last job of the highest tier.
    const { rows: tiers } = await db.pool.query(
      `SELECT priority, min(started_at) AS first, max(started_at) AS last FROM "${db.schema}".jobs GROUP BY priority ORDER BY priority`,
    );
    expect(tiers.map((t) => t.priority)).toEqual([0, 5, 10]);
    expect(tiers[2].last.getTime()).toBeLessThanOrEqual(tiers[0].first.getTime());

    // Nothing went wrong on the way, and the children stop cleanly.
    const childTrouble = [childA!, childB!].flatMap((c) => c.events.filter((e) => e.event === "error" || e.event === "lease-lost"));
    expect(childTrouble).toEqual([]);
    expect(trouble).toEqual([]);
    childA!.kill("SIGTERM");
    childB!.kill("SIGTERM");
    const exits = await within(Promise.all([childA!.exited, childB!.exited]), 15_000, "the children to exit");
    expect(exits).toEqual([{ code: 0, signal: null }, { code: 0, signal: null }]);
    console.log(`2,000 jobs by worker: ${JSON.stringify(Object.fromEntries(perWorker))}; workers up in ${t1 - t0} ms, drained in ${t2 - t1} ms`);
  });
});

describe("a worker process killed with SIGKILL mid-job", () => {
  it("loses nothing: after the lease passes another worker finishes its jobs, with the attempt and the reason recorded", async () => {
    const child = await spawnWorker({
      url: db.url,
      schema: db.schema,
      workerId: "doomed",
      concurrency: 4,
      leaseMs: 2000,
      heartbeatMs: 500,
      jobMs: 60_000,
    });
    // Six jobs for four slots: four are taken, two stay queued.
    const ids = await enqueueWork(6);
    await waitFor(() => jobEvents(child).length === 4, "the child to start 4 jobs", 15_000);
    const { rows: inProgress } = await db.pool.query(
      `SELECT job_id FROM "${db.schema}".executions WHERE worker_id = 'doomed' AND finished_at IS NULL`,
    );
    expect(inProgress.map((r) => r.job_id).sort()).toEqual([...jobEvents(child)].sort());

    child.kill("SIGKILL");
    expect(await within(child.exited, 10_000, "the child to die")).toEqual({ code: null, signal: "SIGKILL" });

    // The leases the dead worker left behind: nobody may take its jobs before these pass.
    const killed = new Set(jobEvents(child));
    const before = await jobRows([...killed]);
    for (const job of before.values()) {
      expect(job.status).toBe("running");
      expect(job.locked_by).toBe("doomed");
    }

    const trouble: Trouble[] = [];
    await startInProcess("rescuer", { jobMs: 0, rescueIntervalMs: 200 }, trouble);
    await waitFor(async () => (await countByStatus()).succeeded === 6, "all 6 jobs to succeed", 20_000);

    const jobs = await jobRows(ids);
    const byJob = groupByJob(await readExecutions(db.pool, db.schema));
    for (const id of ids) {
      const job = jobs.get(id)!;
      const runs = byJob.get(id) ?? [];
      expect(job.status).toBe("succeeded");
      expect(job.result).toEqual({ by: "rescuer" });
      expect(runs.filter((r) => r.finished_at !== null)).toHaveLength(1);
      const [done] = runs.filter((r) => r.finished_at !== null);
      expect(done).toMatchObject({ worker_id: "rescuer", outcome: "returned", attempt: job.attempts });
      if (killed.has(id)) {
        expect(job.attempts).toBe(2);
        expect(job.errors).toHaveLength(1);
        expect(job.errors[0].attempt).toBe(1);
        expect(job.errors[0].message).toMatch(/lease expired/i);
        expect(job.errors[0].message).toContain("doomed");
        expect(runs).toHaveLength(2);
        const [first] = runs.filter((r) => r.finished_at === null);
        expect(first).toMatchObject({ worker_id: "doomed", attempt: 1, outcome: null });
        // Rescued only after the dead worker's lease had passed.
        expect(done!.started_at.getTime()).toBeGreaterThanOrEqual(before.get(id)!.locked_until.getTime());
      } else {
        expect(job.attempts).toBe(1);
        expect(job.errors).toEqual([]);
        expect(runs).toHaveLength(1);
      }
    }
    expect(trouble).toEqual([]);
  });
});

describe("a worker process killed with SIGKILL while jobs wait in its buffer", () => {
  it("charges an attempt only to jobs whose handler started; the buffered ones go back unspent and run", async () => {
    const JOBS = 3000;
    // Short jobs at concurrency 10: the worker claims far ahead of its slots.
    const child = await spawnWorker({ url: db.url, schema: db.schema, workerId: "doomed", concurrency: 10, leaseMs: 2000, heartbeatMs: 500, jobMs: 0 });
    const results = await queue.enqueueMany(
      Array.from({ length: JOBS }, (_, i) => ({ type: "work", payload: { i }, options: { maxAttempts: 1 } })),
    );
    const ids = results.map((r) => r.job.id);
    // Kill it while it holds jobs it has claimed but not started.
    await waitFor(async () => {
      if (jobEvents(child).length < 100) return false;
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE status = 'running' AND started_at IS NULL AND locked_by = 'doomed'`,
      );
      return rows[0].n >= 20;
    }, "the child to hold at least 20 claimed jobs it has not started", 30_000);
    child.kill("SIGKILL");
    await within(child.exited, 10_000, "the child to die");

    const { rows: heldRows } = await db.pool.query(
      `SELECT id FROM "${db.schema}".jobs WHERE status = 'running' AND started_at IS NULL AND locked_by = 'doomed'`,
    );
    const held = new Set(heldRows.map((r) => r.id as string));
    expect(held.size).toBeGreaterThan(0);

    const trouble: Trouble[] = [];
    const rescuer = await startInProcess("rescuer", { jobMs: 0, rescueIntervalMs: 200 }, trouble);
    const rescued: WorkerEvents["jobs:rescued"][] = [];
    rescuer.on("jobs:rescued", (e) => rescued.push(e));
    await waitFor(async () => {
      const counts = await countByStatus();
      return (counts.succeeded ?? 0) + (counts.dead ?? 0) === JOBS;
    }, "every job to finish", 60_000);

    const jobs = await jobRows(ids);
    const byJob = groupByJob(await readExecutions(db.pool, db.schema));
    const problems: string[] = [];
    let released = 0;
    for (const id of ids) {
      const job = jobs.get(id)!;
      const runs = byJob.get(id) ?? [];
      const onDoomed = runs.filter((r) => r.worker_id === "doomed");
      if (job.status === "dead") {
        // Only a job the killed worker had started may have been charged
        // (its handler may have been killed before it recorded its run, or
        // after it returned but before the outcome was written), never one
        // it only held.
        if (held.has(id)) problems.push(`${id} is dead though the killed worker only held it`);
        continue;
      }
      if (job.status !== "succeeded") problems.push(`${id} ended ${job.status}`);
      // At least once: a job may have run on the killed worker too (killed
      // before its outcome, or its start, was written); after the kill, once.
      const after = runs.filter((r) => r.worker_id !== "doomed");
      if (after.length > 1) problems.push(`${id} ran ${after.length} times after the kill`);
      if (held.has(id) && onDoomed.length === 0) {
        released++;
        // Back without an attempt spent: one entry in the history says why.
        if (job.result?.by !== "rescuer") problems.push(`${id} was finished by ${job.result?.by}`);
        if (job.attempts !== 2 || job.max_attempts !== 2) problems.push(`${id}: attempts ${job.attempts}, max ${job.max_attempts}`);
        if (!job.errors.some((e: { unstarted?: boolean; message: string }) => e.unstarted === true && e.message.includes("doomed"))) {
          problems.push(`${id}: no record of its release in ${JSON.stringify(job.errors)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(released).toBeGreaterThan(0);
    expect(rescued.reduce((n, e) => n + e.released, 0)).toBeGreaterThanOrEqual(released);
    expect(trouble).toEqual([]);
  });
});

describe("a worker process stopped with SIGTERM", () => {
  it("finishes its in-flight jobs, claims no more, and exits 0", async () => {
    const child = await spawnWorker({
      url: db.url,
      schema: db.schema,
      workerId: "leaving",
      concurrency: 3,
      leaseMs: 5000,
      jobMs: 1500,
      shutdownMs: 20_000,
    });
    const ids = await enqueueWork(5);
    await waitFor(() => jobEvents(child).length === 3, "the child to start 3 jobs", 15_000);
    const inFlight = jobEvents(child);

    child.kill("SIGTERM");
    expect(await within(child.exited, 15_000, "the child to exit")).toEqual({ code: 0, signal: null });
    expect(child.events.map((e) => e.event)).toContain("stopped");

    // Its three jobs are done, by it, at the first attempt; the other two were never touched.
    const after = await jobRows(ids);
    for (const id of ids) {
      const job = after.get(id)!;
      expect(job.status).not.toBe("running");
      if (inFlight.includes(id)) expect(job).toMatchObject({ status: "succeeded", attempts: 1, result: { by: "leaving" } });
      else expect(job).toMatchObject({ status: "queued", attempts: 0, locked_by: null });
    }
    expect(jobEvents(child)).toHaveLength(3);

    await startInProcess("next", { jobMs: 0 });
    await waitFor(async () => (await countByStatus()).succeeded === 5, "all 5 jobs to succeed", 15_000);
    const executions = await readExecutions(db.pool, db.schema);
    expect(executions).toHaveLength(5);
    expect(executions.every((e) => e.outcome === "returned" && e.attempt === 1)).toBe(true);
    expect(overlappingExecutions(executions)).toEqual([]);
  });

  it("past its grace period, releases its jobs without spending an attempt, exits 0, and another worker completes them", async () => {
    const child = await spawnWorker({
      url: db.url,
      schema: db.schema,
      workerId: "hurried",
      concurrency: 3,
      leaseMs: 5000,
      jobMs: 60_000,
      shutdownMs: 300,
    });
    const ids = await enqueueWork(3);
    await waitFor(() => jobEvents(child).length === 3, "the child to start 3 jobs", 15_000);

    child.kill("SIGTERM");
    expect(await within(child.exited, 15_000, "the child to exit")).toEqual({ code: 0, signal: null });
    const released = child.events.filter((e) => e.event === "released").map((e) => e.id);
    expect([...released].sort()).toEqual([...ids].sort());

    // Back in the queue at once, not left to their leases; the attempt is given back via max_attempts.
    const after = await jobRows(ids);
    for (const job of after.values()) {
      expect(job).toMatchObject({ status: "queued", attempts: 1, max_attempts: 4, locked_until: null, errors: [] });
      expect(job.run_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    }
    const aborted = await readExecutions(db.pool, db.schema);
    expect(aborted).toHaveLength(3);
    for (const e of aborted) expect(e).toMatchObject({ worker_id: "hurried", attempt: 1, outcome: "aborted" });
    expect(aborted.every((e) => e.finished_at !== null)).toBe(true);

    await startInProcess("next", { jobMs: 0 });
    await waitFor(async () => (await countByStatus()).succeeded === 3, "the released jobs to succeed", 15_000);
    const done = await jobRows(ids);
    for (const job of done.values()) expect(job).toMatchObject({ status: "succeeded", attempts: 2, result: { by: "next" } });
    const executions = await readExecutions(db.pool, db.schema);
    const byJob = groupByJob(executions);
    for (const id of ids) {
      const runs = byJob.get(id)!;
      expect(runs.map((r) => [r.worker_id, r.attempt, r.outcome])).toEqual([
        ["hurried", 1, "aborted"],
        ["next", 2, "returned"],
      ]);
    }
    expect(overlappingExecutions(executions)).toEqual([]);
  });
});
