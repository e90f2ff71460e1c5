import { afterEach, describe, expect, it } from "vitest";
import type { JobContext } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { StatementCountingPool } from "./support/counting-pool.js";
import { waitFor } from "./support/db.js";
import { createExecutionsTable, killAllChildren, readExecutions, spawnWorker } from "./support/processes.js";
import { collect, gate, jobStatus, nextEvent } from "./support/worker.js";

// queue.cancel() on a running job: its worker aborts the handler's signal and
// writes `canceled`; fenced, across processes, after a missed notification,
// and when the worker died.

const bed = useTestBed("wcan", { schemaPerTest: true, worker: { pollIntervalMs: 50, leaseMs: 3000 } });
afterEach(() => killAllChildren());

const status = (id: string) => jobStatus(bed.db.pool, bed.db.schema, id);

/** A handler that waits until its signal aborts, and records the reason. */
function waitsForAbort(reasons: unknown[]) {
  return async (_p: unknown, ctx: JobContext) => {
    await new Promise<void>((_, reject) =>
      ctx.signal.addEventListener(
        "abort",
        () => {
          reasons.push(ctx.signal.reason);
          reject(ctx.signal.reason);
        },
        { once: true },
      ),
    );
  };
}

describe("cancel a running job", () => {
  it("aborts the handler's signal with a cancellation reason and ends the job canceled", async () => {
    const reasons: unknown[] = [];
    const worker = bed.worker({ long: waitsForAbort(reasons) });
    const canceledEvents = collect(worker, "job:canceled");
    const failed = collect(worker, "job:failed");
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await bed.queue.enqueue("long", null);
    await started;

    const requested = await bed.queue.cancel(job.id);
    expect(requested).toMatchObject({ status: "running", cancelRequestedAt: expect.any(Date) });
    await waitFor(async () => (await status(job.id)) === "canceled", "the job to be canceled");
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ name: "AbortError", message: "The job was canceled" });
    expect(canceledEvents.map((e) => e.job.id)).toEqual([job.id]);
    expect(failed).toEqual([]);
    expect(await bed.queue.getJob(job.id)).toMatchObject({ status: "canceled", attempts: 1, lockedBy: null, finishedAt: expect.any(Date), errors: [] });
    // A retry clears the request: it runs again and is not canceled.
    const again = gate();
    await worker.stop();
    const second = bed.worker({ long: async () => again.promise.then(() => "ran") });
    await second.start();
    const succeeded = nextEvent(second, "job:succeeded");
    expect((await bed.queue.retry(job.id)).cancelRequestedAt).toBeNull();
    again.open();
    expect((await succeeded).job.id).toBe(job.id);
  });

  it("cancels a handler that ignores its signal (it keeps running, its result is dropped)", async () => {
    const never = gate();
    const worker = bed.worker({ stubborn: async () => never.promise.then(() => "too late") });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await bed.queue.enqueue("stubborn", null);
    await started;
    await bed.queue.cancel(job.id);
    await waitFor(async () => (await status(job.id)) === "canceled", "the job to be canceled");
    never.open();
  });

  it("a job canceled as its handler returns ends succeeded or canceled, never both", async () => {
    const worker = bed.worker({ quick: async () => "done" }, { concurrency: 10 });
    const succeeded = collect(worker, "job:succeeded");
    const canceled = collect(worker, "job:canceled");
    worker.on("job:started", ({ job }) => void bed.queue.cancel(job.id).catch(() => {}));
    await worker.start();
    const jobs = await bed.queue.enqueueMany(Array.from({ length: 60 }, (_, i) => ({ type: "quick", payload: i })));
    const ids = jobs.map((j) => j.job.id);
    await waitFor(async () => {
      const { rows } = await bed.db.pool.query(`SELECT count(*)::int AS n FROM "${bed.db.schema}".jobs WHERE status IN ('succeeded', 'canceled')`);
      return rows[0].n === ids.length;
    }, "every job to end");
    const { rows } = await bed.db.pool.query(`SELECT id, status FROM "${bed.db.schema}".jobs`);
    const byStatus = new Map(rows.map((r) => [r.id as string, r.status as string]));
    await waitFor(() => succeeded.length + canceled.length === ids.length, "every outcome to be announced");
    for (const e of succeeded) expect(byStatus.get(e.job.id)).toBe("succeeded");
    for (const e of canceled) expect(byStatus.get(e.job.id)).toBe("canceled");
    expect(new Set([...succeeded, ...canceled].map((e) => e.job.id)).size).toBe(ids.length);
  });

  it("a handler that fails before it learns of the request leaves the job canceled, not retrying", async () => {
    const fail = gate();
    const worker = bed.worker({
      flaky: async () => {
        await fail.promise;
        throw new Error("boom");
      },
    });
    const canceled = collect(worker, "job:canceled");
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await bed.queue.enqueue("flaky", null, { maxAttempts: 5 });
    await started;
    // The request is recorded, but its notification has not reached the worker.
    await bed.db.pool.query(`UPDATE "${bed.db.schema}".jobs SET cancel_requested_at = now() WHERE id = $1`, [job.id]);
    fail.open();
    await waitFor(async () => (await status(job.id)) === "canceled", "the job to be canceled");
    await waitFor(() => canceled.length === 1, "job:canceled");
    expect(await bed.queue.getJob(job.id)).toMatchObject({ attempts: 1, lockedBy: null, finishedAt: expect.any(Date) });
  });

  it("cancels a job still waiting in the worker's buffer without running it", async () => {
    const block = gate();
    const ran: string[] = [];
    const worker = bed.worker({ quick: async (_p, ctx) => void ran.push(ctx.job.id), block: async () => block.promise }, { concurrency: 2 });
    await worker.start();
    // Short jobs first, so the worker keeps a buffer ahead of its slots.
    const warm = await bed.queue.enqueueMany(Array.from({ length: 20 }, () => ({ type: "quick", payload: null })));
    await waitFor(() => ran.length === warm.length, "the warm-up jobs to run");
    await bed.queue.enqueueMany([
      { type: "block", payload: null, options: { priority: 10 } },
      { type: "block", payload: null, options: { priority: 10 } },
      ...Array.from({ length: 10 }, () => ({ type: "quick", payload: null })),
    ]);
    const held = await waitFor(async () => {
      const { rows } = await bed.db.pool.query(
        `SELECT id FROM "${bed.db.schema}".jobs WHERE type = 'quick' AND status = 'running' AND started_at IS NULL LIMIT 1`,
      );
      return rows[0]?.id as string | undefined;
    }, "a quick job held in the buffer behind the blocking ones");
    await bed.queue.cancel(held);
    await waitFor(async () => (await status(held)) === "canceled", "the held job to be canceled");
    block.open();
    await waitFor(async () => {
      const { rows } = await bed.db.pool.query(`SELECT count(*)::int AS n FROM "${bed.db.schema}".jobs WHERE status = 'succeeded'`);
      return rows[0].n === 20 + 2 + 9;
    }, "the other jobs to succeed");
    expect(ran).not.toContain(held);
  });

  it("after a missed notification, the worker cancels at its next lease extension", async () => {
    const reasons: unknown[] = [];
    const worker = bed.worker({ long: waitsForAbort(reasons) }, { listen: false, heartbeatIntervalMs: 200 });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await bed.queue.enqueue("long", null);
    await started;
    // A worker without LISTEN hears no notification at all.
    await bed.queue.cancel(job.id);
    await waitFor(async () => (await status(job.id)) === "canceled", "the job to be canceled");
    expect(reasons).toHaveLength(1);
  });

  it("a job whose worker died after its cancel was requested is canceled by the rescue, not run again", async () => {
    const { job } = await bed.queue.enqueue("orphan", null, { maxAttempts: 5 });
    await bed.db.pool.query(
      `UPDATE "${bed.db.schema}".jobs SET status = 'running', attempts = 1, locked_by = 'ghost', locked_until = now() - interval '1 second',
         started_at = now() - interval '1 minute', cancel_requested_at = now() WHERE id = $1`,
      [job.id],
    );
    const worker = bed.worker({ orphan: async () => "should not run" });
    const rescued = await worker.rescueExpired();
    expect(rescued.count).toBe(1);
    expect(await bed.queue.getJob(job.id)).toMatchObject({ status: "canceled", attempts: 1, lockedBy: null, result: null });
  });

  it("a canceled job of a limited queue frees its place at once for the next job, on another worker", async () => {
    await bed.queue.setLimits("one-at-a-time", { concurrency: 1 });
    const reasons: unknown[] = [];
    const ran: unknown[] = [];
    const first = bed.worker({ first: waitsForAbort(reasons) });
    await first.start();
    const started = nextEvent(first, "job:started");
    const { job } = await bed.queue.enqueue("first", null, { queue: "one-at-a-time" });
    await started;
    await bed.queue.enqueue("second", "next", { queue: "one-at-a-time" });
    // A worker for the second job, whose claims are counted: the poll is a
    // minute away, so once its first claim came back empty (the queue is at
    // its limit), only the cancel's wake-up can start the second job.
    const pool = new StatementCountingPool(".job_claim(", { connectionString: bed.db.url, max: 6 });
    try {
      const second = bed.worker({ second: async (p) => void ran.push(p) }, { pollIntervalMs: 60_000, pool });
      await second.start();
      await waitFor(() => pool.empty > 0, "the second worker's claim to find the queue at its limit");
      const succeeded = nextEvent(second, "job:succeeded");
      await bed.queue.cancel(job.id);
      expect((await succeeded).job.type).toBe("second");
      expect(ran).toEqual(["next"]);
      expect(await status(job.id)).toBe("canceled");
      await second.stop();
    } finally {
      await pool.end();
    }
  });

  it("cancels a job running in another process", async () => {
    await createExecutionsTable(bed.db.pool, bed.db.schema);
    const child = await spawnWorker({ url: bed.db.url, schema: bed.db.schema, workerId: "child", concurrency: 2, jobMs: 60_000 });
    const { job } = await bed.queue.enqueue("work", null);
    await child.waitFor((e) => e.event === "job" && e.id === job.id, "the child to start the job");
    await bed.queue.cancel(job.id);
    await waitFor(async () => (await status(job.id)) === "canceled", "the job to be canceled");
    await waitFor(async () => (await readExecutions(bed.db.pool, bed.db.schema)).some((e) => e.job_id === job.id && e.outcome === "aborted"), "the child's handler to record its abort");
  });
});
