import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, Worker, type Queue } from "../src/index.js";
import { waitFor, type TestSchema } from "./support/db.js";
import { useTestBed } from "./support/bed.js";
import { collect, gate, jobRow, jobStatus, nextEvent } from "./support/worker.js";

// Starting and stopping: stop() finishes in-flight work, releases what
// outlasts its timeout without spending an attempt, claims nothing more, and
// both start() and stop() can be called twice.

const bed = useTestBed("wsd", { worker: { pollIntervalMs: 50 } });
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

/** LISTEN connections of workers on this test's schema. */
async function listenersOnSchema(): Promise<number> {
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'djps worker' AND query LIKE 'LISTEN%' AND query LIKE $1`,
    [`%${db.schema}%`],
  );
  return rows[0].n;
}

describe("stop()", () => {
  it("lets in-flight jobs finish, and claims nothing while it waits", async () => {
    const release = gate();
    const order: string[] = [];
    const worker = bed.worker({
      work: async (payload) => {
        const p = payload as string;
        if (p === "first") await release.promise;
        order.push(`handler ${p} returned`);
        return p;
      },
    });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await queue.enqueue("work", "first");
    await started;

    const stopped = worker.stop().then(() => order.push("stop resolved"));
    // Enqueued while the worker is stopping: not taken.
    const { job: late } = await queue.enqueue("work", "late");
    // stop() is waiting for the handler: the job is still running under this worker.
    expect(await jobRow(db.pool, db.schema, job.id)).toMatchObject({ status: "running", locked_by: worker.id });
    release.open();
    await stopped;

    expect(order).toEqual(["handler first returned", "stop resolved"]);
    expect(await jobRow(db.pool, db.schema, job.id)).toMatchObject({ status: "succeeded", attempts: 1, result: "first" });
    // Never run. (A claim already on its way when stop() was called may have
    // taken it; it is then put back at once with no attempt spent.)
    expect(order).not.toContain("handler late returned");
    const lateRow = await jobRow(db.pool, db.schema, late.id);
    expect(lateRow).toMatchObject({ status: "queued", locked_by: null });
    expect(lateRow.max_attempts - lateRow.attempts).toBe(3);
  });

  it("past its timeout aborts a handler that ignores its signal and releases the job without spending an attempt", async () => {
    const never = gate();
    const signals: AbortSignal[] = [];
    const worker = bed.worker({
      stuck: async (_p, ctx) => {
        signals.push(ctx.signal);
        await never.promise; // ignores the signal
        return "too late";
      },
    });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await queue.enqueue("stuck", null, { maxAttempts: 3 });
    await started;

    const released = nextEvent(worker, "job:released");
    await worker.stop({ timeoutMs: 50 });
    expect((await released).job.id).toBe(job.id);
    expect(signals[0]!.aborted).toBe(true);
    expect((signals[0]!.reason as Error).message).toContain("shutting down");
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row).toMatchObject({ status: "queued", attempts: 1, max_attempts: 4, locked_until: null, last_error: null });
    expect(row.run_at.getTime()).toBeLessThanOrEqual(row.updated_at.getTime());

    // Another worker takes it and completes it.
    const other = bed.worker({ stuck: async () => "finished elsewhere" });
    const succeeded = nextEvent(other, "job:succeeded");
    await other.start();
    await succeeded;
    expect(await jobRow(db.pool, db.schema, job.id)).toMatchObject({ status: "succeeded", attempts: 2, locked_by: null, result: "finished elsewhere" });
    never.open();
  });

  it("after releasing a job, waits for its handler's cleanup before it resolves (the process may exit right after)", async () => {
    let stopped = false;
    let stoppedBeforeCleanupEnded: boolean | undefined;
    const worker = bed.worker({
      careful: async (_p, ctx) => {
        try {
          await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }));
        } finally {
          // Cleanup that takes a database round trip of a fifth of a second.
          await db.pool.query("SELECT pg_sleep(0.2)");
          stoppedBeforeCleanupEnded = stopped;
        }
      },
    });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const released = nextEvent(worker, "job:released");
    const { job } = await queue.enqueue("careful", null);
    await started;
    await worker.stop({ timeoutMs: 0 });
    stopped = true;
    expect((await released).job.id).toBe(job.id);
    expect(await jobStatus(db.pool, db.schema, job.id)).toBe("queued");
    expect(stoppedBeforeCleanupEnded).toBe(false);
  });

  it("releases claimed jobs that never started (the prefetch buffer) the same way", async () => {
    const release = gate();
    let started = 0;
    const worker = bed.worker(
      {
        quick: async (p) => {
          started++;
          if ((p as number) >= 50) await release.promise;
        },
      },
      { concurrency: 1 },
    );
    const releasedEvents = collect(worker, "job:released");
    await worker.start();
    // Many short jobs teach the worker to prefetch; the slow ones then queue up in its buffer.
    const ids = (await queue.enqueueMany(Array.from({ length: 400 }, (_, i) => ({ type: "quick", payload: i })))).map((r) => r.job.id);
    await waitFor(() => started > 50, "the slow jobs to begin");
    const stopping = worker.stop({ timeoutMs: 0 });
    release.open();
    await stopping;
    const { rows } = await db.pool.query(
      `SELECT status, count(*)::int AS n, max(attempts) AS attempts FROM "${db.schema}".jobs WHERE id = ANY($1) GROUP BY status`,
      [ids],
    );
    const byStatus = Object.fromEntries(rows.map((r: any) => [r.status, r]));
    // Nothing is left running or leased; every job is done or back in the queue, none failed.
    expect(Object.keys(byStatus).sort().filter((s) => s !== "queued" && s !== "succeeded")).toEqual([]);
    const { rows: held } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE id = ANY($1) AND locked_until IS NOT NULL`, [ids]);
    expect(held[0].n).toBe(0);
    // Released jobs keep their attempt count and gained one more allowed.
    const { rows: released } = await db.pool.query(
      `SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE id = ANY($1) AND status = 'queued' AND attempts = 1 AND max_attempts = 4`,
      [ids],
    );
    const { rows: untouched } = await db.pool.query(
      `SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE id = ANY($1) AND status = 'queued' AND attempts = 0`,
      [ids],
    );
    expect(released[0].n).toBe(releasedEvents.length);
    // The running job and the buffered ones behind it.
    expect(releasedEvents.length).toBeGreaterThan(1);
    expect(released[0].n + untouched[0].n + (byStatus.succeeded?.n ?? 0)).toBe(400);
  });

  it("is safe to call twice (same promise), and start() too: one start, one stop", async () => {
    const worker = bed.worker({ t: async () => undefined });
    const startedEvents = collect(worker, "worker:started");
    const stoppedEvents = collect(worker, "worker:stopped");
    const s1 = worker.start();
    const s2 = worker.start();
    expect(s2).toBe(s1);
    await s1;
    expect(worker.start()).toBe(s1);
    expect(await listenersOnSchema()).toBe(1);

    const t1 = worker.stop();
    const t2 = worker.stop({ timeoutMs: 1 });
    expect(t2).toBe(t1);
    await Promise.all([t1, t2]);
    expect(worker.stop()).toBe(t1);
    // Stopped for good: start() says so instead of pretending to run.
    await expect(worker.start()).rejects.toBeInstanceOf(ConfigError);
    expect(startedEvents).toHaveLength(1);
    expect(stoppedEvents).toHaveLength(1);
    expect(await listenersOnSchema()).toBe(0);
  });

  it("before start() resolves, and a stopped worker cannot be started again", async () => {
    const worker = bed.worker({ t: async () => undefined });
    await worker.stop();
    const error = await worker.start().catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("stopped");
  });

  it("while start() is in flight waits for it, then stops", async () => {
    const worker = bed.worker({ t: async () => undefined });
    const stoppedEvents = collect(worker, "worker:stopped");
    const starting = worker.start();
    const stopping = worker.stop();
    await starting;
    await stopping;
    expect(stoppedEvents).toHaveLength(1);
    expect(await listenersOnSchema()).toBe(0);
  });

  it("claims nothing after it resolved", async () => {
    const worker = bed.worker({ after: async () => "ran" });
    await worker.start();
    await worker.stop();
    const { job } = await queue.enqueue("after", null);
    // A live worker of another type shows that notifications and polls have gone round meanwhile.
    const probe = bed.worker({ probe: async () => "ok" });
    const probed = nextEvent(probe, "job:succeeded");
    await probe.start();
    await queue.enqueue("probe", null);
    await probed;
    expect(await jobStatus(db.pool, db.schema, job.id)).toBe("queued");
  });
});

describe("start()", () => {
  it("rejects against an unmigrated schema with a ConfigError that says to migrate", async () => {
    const worker = new Worker({ t: async () => undefined }, { connectionString: db.url, schema: `${db.schema}_none` });
    try {
      const error = await worker.start().catch((e) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(/migrate/);
      expect(error.message).toContain(`${db.schema}_none`);
    } finally {
      await worker.stop();
    }
  });

  it("with handleSignals, SIGTERM stops the worker gracefully", async () => {
    const release = gate();
    const worker = bed.worker({ sig: async () => { await release.promise; return "finished"; } }, { handleSignals: true });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await queue.enqueue("sig", null);
    await started;
    // Stand in for the process's default handling, which the worker re-raises after stopping.
    let reRaised = 0;
    const keepAlive = () => { reRaised++; };
    const stoppedEvent = nextEvent(worker, "worker:stopped");
    process.emit("SIGTERM", "SIGTERM");
    process.on("SIGTERM", keepAlive);
    release.open();
    try {
      await stoppedEvent;
      await waitFor(() => reRaised === 1, "the signal to be raised again");
    } finally {
      process.off("SIGTERM", keepAlive);
    }
    expect(await jobRow(db.pool, db.schema, job.id)).toMatchObject({ status: "succeeded", result: "finished" });
  });
});
