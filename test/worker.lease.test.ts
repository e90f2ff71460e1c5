import { beforeAll, describe, expect, it } from "vitest";
import type { JobContext, Queue } from "../src/index.js";
import { waitFor, type TestSchema } from "./support/db.js";
import { useTestBed } from "./support/bed.js";
import { collect, gate, jobRow, nextEvent } from "./support/worker.js";

// Leases: a worker whose job was taken cannot write over the newer attempt
// and its handler's signal is aborted; heartbeats keep a long job alive;
// expired leases are rescued, by one worker at a time.

// Each test starts from an empty table, so rescues and claims only see its own jobs.
const bed = useTestBed("wl", {
  worker: { pollIntervalMs: 50 },
  afterEachTest: async (b) => void (await b.db.pool.query(`DELETE FROM "${b.db.schema}".jobs`)),
});
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

/** Another worker takes the job, as a rescue and a new claim would: a newer attempt under another id. */
async function takeOver(id: string): Promise<void> {
  const { rowCount } = await db.pool.query(
    `UPDATE "${db.schema}".jobs SET locked_by = 'other', attempts = attempts + 1, locked_until = now() + interval '1 hour'
     WHERE id = $1 AND status = 'running'`,
    [id],
  );
  expect(rowCount).toBe(1);
}

/** Marks jobs as held by a worker that died: running, lease passed. */
async function expire(ids: string[], attempts = 1): Promise<void> {
  await db.pool.query(
    `UPDATE "${db.schema}".jobs SET status = 'running', attempts = $2, locked_by = 'dead-worker',
       locked_until = now() - interval '1 second', started_at = now() - interval '1 minute'
     WHERE id = ANY($1)`,
    [ids, attempts],
  );
}

describe("lease loss", () => {
  it("detected by the heartbeat: the handler's signal is aborted and its result is discarded", async () => {
    const release = gate();
    let ctx: JobContext | undefined;
    let returned = false;
    const worker = bed.worker(
      {
        block: async (_p, c) => {
          ctx = c;
          await release.promise;
          returned = true;
          return { stale: true };
        },
      },
      { leaseMs: 1000, heartbeatIntervalMs: 200 },
    );
    const lost = collect(worker, "job:lease-lost");
    const succeeded = collect(worker, "job:succeeded");
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await queue.enqueue("block", null);
    await started;
    // Listen before the takeover: the next heartbeat may come while it commits.
    const lostEvent = nextEvent(worker, "job:lease-lost");
    await takeOver(job.id);

    const event = await lostEvent;
    expect(event.job.id).toBe(job.id);
    expect(ctx!.signal.aborted).toBe(true);
    expect((ctx!.signal.reason as Error).name).toBe("AbortError");
    expect((ctx!.signal.reason as Error).message).toContain("lost the job's lease");
    await expect(ctx!.heartbeat()).rejects.toBe(ctx!.signal.reason);

    release.open();
    await waitFor(() => returned && worker.runningCount === 0, "the handler to return");
    // The slot is free again, and nothing was written over the newer attempt.
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row).toMatchObject({ status: "running", locked_by: "other", attempts: 2, result: null, finished_at: null });
    expect(lost).toHaveLength(1);
    expect(succeeded).toHaveLength(0);
  });

  it("detected by ctx.heartbeat(): it rejects with the abort reason", async () => {
    const release = gate();
    const outcome: unknown[] = [];
    const worker = bed.worker({
      beat: async (_p, ctx) => {
        await release.promise;
        await ctx.heartbeat().catch((e) => outcome.push(e));
        outcome.push(ctx.signal.aborted);
      },
    });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await queue.enqueue("beat", null);
    await started;
    const lost = nextEvent(worker, "job:lease-lost");
    await takeOver(job.id);
    release.open();
    await lost;
    await waitFor(() => outcome.length === 2, "the handler to finish");
    expect((outcome[0] as Error).name).toBe("AbortError");
    expect(outcome[1]).toBe(true);
    expect(await jobRow(db.pool, db.schema, job.id)).toMatchObject({ status: "running", locked_by: "other", attempts: 2 });
  });

  for (const how of ["returns", "throws", "snoozes"] as const) {
    it(`fenced without a heartbeat: a handler that ${how} after its job was taken writes nothing`, async () => {
      const release = gate();
      const worker = bed.worker(
        {
          late: async (_p, ctx) => {
            await release.promise;
            if (how === "throws") throw new Error("late failure");
            if (how === "snoozes") ctx.snooze(0);
            return "late result";
          },
        },
        // Leases long enough that no heartbeat comes before the handler returns.
        { leaseMs: 600_000 },
      );
      const failed = collect(worker, "job:failed");
      await worker.start();
      const started = nextEvent(worker, "job:started");
      const { job } = await queue.enqueue("late", null, { maxAttempts: 5 });
      await started;
      const lost = nextEvent(worker, "job:lease-lost");
      await takeOver(job.id);
      release.open();
      expect((await lost).job.id).toBe(job.id);
      const row = await jobRow(db.pool, db.schema, job.id);
      expect(row).toMatchObject({
        status: "running",
        locked_by: "other",
        attempts: 2,
        max_attempts: 5,
        result: null,
        last_error: null,
        finished_at: null,
      });
      expect(row.errors).toEqual([]);
      expect(failed).toHaveLength(0);
    });
  }
});

describe("a job rescued from this worker and claimed again by it", () => {
  it("aborts the older attempt, and the older attempt's end leaves the newer one alone", async () => {
    const releases = [gate(), gate()];
    const contexts: JobContext[] = [];
    const worker = bed.worker(
      {
        twice: async (_p, ctx) => {
          contexts.push(ctx);
          await releases[contexts.length - 1]!.promise;
          return `attempt ${ctx.attempt}`;
        },
      },
      { leaseMs: 1000, heartbeatIntervalMs: 200, concurrency: 2 },
    );
    const lost = collect(worker, "job:lease-lost");
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await queue.enqueue("twice", null);
    await started;
    // What a rescue does when this worker's heartbeats did not get through: the job is runnable again.
    const restarted = nextEvent(worker, "job:started", (e) => e.job.attempts === 2);
    await db.pool.query(
      `UPDATE "${db.schema}".jobs SET status = 'failed', run_at = now(), locked_until = NULL WHERE id = $1`,
      [job.id],
    );
    await restarted;
    await waitFor(() => contexts.length === 2, "the second attempt's handler to run");
    expect(contexts.map((c) => c.attempt)).toEqual([1, 2]);
    await waitFor(() => contexts[0]!.signal.aborted, "the first attempt's signal to be aborted");
    expect(contexts[1]!.signal.aborted).toBe(false);
    expect(lost.map((e) => e.job.attempts)).toEqual([1]);

    // The first attempt ends: the second is still running here and keeps its lease.
    releases[0]!.open();
    await waitFor(() => worker.runningCount === 1, "the first attempt to end");
    const before = (await jobRow(db.pool, db.schema, job.id)).locked_until as Date;
    await waitFor(async () => (await jobRow(db.pool, db.schema, job.id)).locked_until > before, "a heartbeat for the second attempt");
    expect(worker.runningCount).toBe(1);

    const succeeded = nextEvent(worker, "job:succeeded");
    releases[1]!.open();
    expect((await succeeded).job.attempts).toBe(2);
    expect(await jobRow(db.pool, db.schema, job.id)).toMatchObject({ status: "succeeded", attempts: 2, result: "attempt 2" });
    expect(worker.runningCount).toBe(0);
  });
});

describe("heartbeats", () => {
  it("keep a job that runs past its lease from being rescued", async () => {
    const release = gate();
    const worker = bed.worker(
      { long: async () => { await release.promise; return "done"; } },
      { leaseMs: 1000, heartbeatIntervalMs: 200, workerId: "long-runner" },
    );
    const rescuer = bed.worker({ long: async () => "never" }, { workerId: "rescuer" });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await queue.enqueue("long", null);
    await started;
    const first = await jobRow(db.pool, db.schema, job.id);
    const originalDeadline: Date = first.locked_until;

    const rescued: string[] = [];
    let last = originalDeadline.getTime();
    let advancesPastDeadline = 0;
    await waitFor(
      async () => {
        const result = await rescuer.rescueExpired();
        rescued.push(...result.ids);
        const { rows } = await db.pool.query(
          `SELECT locked_until, status, locked_by, now() > $2 AS past FROM "${db.schema}".jobs WHERE id = $1`,
          [job.id, originalDeadline],
        );
        const row = rows[0];
        expect(row).toMatchObject({ status: "running", locked_by: "long-runner" });
        if (row.locked_until.getTime() > last) {
          last = row.locked_until.getTime();
          if (row.past) advancesPastDeadline++;
        }
        return advancesPastDeadline >= 3;
      },
      "the lease to be extended three times after the first deadline passed",
    );
    expect(rescued).toEqual([]);

    const succeeded = nextEvent(worker, "job:succeeded");
    release.open();
    await succeeded;
    expect(await jobRow(db.pool, db.schema, job.id)).toMatchObject({ status: "succeeded", attempts: 1, result: "done" });
  });

  it("keep one job after another alive past their leases, with one slot", async () => {
    const worker = bed.worker(
      {
        chain: async (_p, ctx) => {
          // Run until this job's lease has been extended at least once.
          const { rows } = await db.pool.query(`SELECT locked_until FROM "${db.schema}".jobs WHERE id = $1`, [ctx.job.id]);
          const deadline: Date = rows[0].locked_until;
          await waitFor(async () => {
            const r = await db.pool.query(`SELECT locked_until FROM "${db.schema}".jobs WHERE id = $1`, [ctx.job.id]);
            return r.rows[0].locked_until > deadline;
          }, "a heartbeat");
        },
      },
      { leaseMs: 1000, heartbeatIntervalMs: 200, concurrency: 1 },
    );
    const rescuer = bed.worker({ chain: async () => undefined });
    await worker.start();
    const ids = (await queue.enqueueMany([1, 2, 3].map((n) => ({ type: "chain", payload: n })))).map((r) => r.job.id);
    await waitFor(async () => {
      expect((await rescuer.rescueExpired()).count).toBe(0);
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE id = ANY($1) AND status = 'succeeded'`, [ids]);
      return rows[0].n === 3;
    }, "three long jobs to succeed");
    const { rows } = await db.pool.query(`SELECT DISTINCT attempts FROM "${db.schema}".jobs WHERE id = ANY($1)`, [ids]);
    expect(rows).toEqual([{ attempts: 1 }]);
  });
});

describe("rescue", () => {
  it("moves jobs whose lease passed to failed (or dead when attempts are used up); a running worker then runs them", async () => {
    const retryable = (await queue.enqueue("orphan", { n: 1 }, { maxAttempts: 3 })).job;
    const spent = (await queue.enqueue("orphan", { n: 2 }, { maxAttempts: 2 })).job;
    const alive = (await queue.enqueue("orphan", { n: 3 })).job;
    await expire([retryable.id]);
    await expire([spent.id], 2);
    // A job whose lease has not passed belongs to a live worker: left alone.
    await db.pool.query(
      `UPDATE "${db.schema}".jobs SET status = 'running', attempts = 1, locked_by = 'live-worker', locked_until = now() + interval '1 hour' WHERE id = $1`,
      [alive.id],
    );

    const ran: string[] = [];
    const worker = bed.worker({ orphan: async (_p, ctx) => { ran.push(ctx.job.id); return "recovered"; } }, { workerId: "survivor" });
    const result = await worker.rescueExpired();
    expect(result.count).toBe(2);
    expect(result.dead).toBe(1);
    expect([...result.ids].sort()).toEqual([retryable.id, spent.id].sort());

    const failedRow = await jobRow(db.pool, db.schema, retryable.id);
    expect(failedRow).toMatchObject({ status: "failed", attempts: 1, locked_until: null });
    expect(failedRow.last_error).toMatch(/^Lease expired: worker dead-worker/);
    expect(failedRow.errors).toEqual([expect.objectContaining({ attempt: 1, message: failedRow.last_error })]);
    const deadRow = await jobRow(db.pool, db.schema, spent.id);
    expect(deadRow).toMatchObject({ status: "dead", attempts: 2 });
    expect(deadRow.finished_at).toBeInstanceOf(Date);
    expect(deadRow.last_error).toMatch(/^Lease expired: worker dead-worker/);
    expect(await jobRow(db.pool, db.schema, alive.id)).toMatchObject({ status: "running", locked_by: "live-worker" });

    // A second pass finds nothing more.
    expect((await worker.rescueExpired()).count).toBe(0);

    const succeeded = nextEvent(worker, "job:succeeded", (e) => e.job.id === retryable.id);
    await worker.start();
    await succeeded;
    expect(await jobRow(db.pool, db.schema, retryable.id)).toMatchObject({ status: "succeeded", attempts: 2, locked_by: null, result: "recovered" });
    expect(ran).toEqual([retryable.id]);
    expect((await jobRow(db.pool, db.schema, spent.id)).status).toBe("dead");
  });

  it("the maintenance loop of a started worker rescues on its own and emits jobs:rescued", async () => {
    const { job } = await queue.enqueue("orphan2", null);
    await expire([job.id]);
    const worker = bed.worker({ orphan2: async () => "ok" }, { rescueIntervalMs: 50 });
    const rescued = nextEvent(worker, "jobs:rescued");
    const succeeded = nextEvent(worker, "job:succeeded");
    await worker.start();
    expect((await rescued).ids).toEqual([job.id]);
    await succeeded;
    expect(await jobRow(db.pool, db.schema, job.id)).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("two workers rescuing at the same time never both rescue a row", async () => {
    const a = bed.worker({ x: async () => undefined }, { workerId: "rescuer-a" });
    const b = bed.worker({ x: async () => undefined }, { workerId: "rescuer-b" });
    for (let round = 0; round < 5; round++) {
      const ids = (await queue.enqueueMany(Array.from({ length: 300 }, (_, i) => ({ type: "x", payload: i })))).map((r) => r.job.id);
      await expire(ids);
      const [ra, rb] = await Promise.all([a.rescueExpired(), b.rescueExpired()]);
      const all = [...ra.ids, ...rb.ids];
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe(300);
      expect(ra.count + rb.count).toBe(300);
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n, max(jsonb_array_length(errors))::int AS errors FROM "${db.schema}".jobs WHERE id = ANY($1) AND status = 'failed'`,
        [ids],
      );
      expect(rows[0]).toEqual({ n: 300, errors: 1 });
      await db.pool.query(`DELETE FROM "${db.schema}".jobs`);
    }
  });
});
