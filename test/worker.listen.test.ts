import { beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { Worker, type Queue } from "../src/index.js";
import { waitFor, type TestSchema } from "./support/db.js";
import { useTestBed } from "./support/bed.js";
import { collect, jobRow, nextEvent } from "./support/worker.js";

// Waking up: with polling once a minute, a committed enqueue still reaches an
// idle worker through LISTEN/NOTIFY, also after the LISTEN connection was
// killed; poll-only mode works; and a worker takes only its queues and types.

const bed = useTestBed("wln");
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

/** Far longer than any deadline below: a job that runs in time was not found by polling. */
const ONCE_A_MINUTE = 60_000;
const PROMPTLY = 10_000;

/** Backend pids of the LISTEN connections of workers on this test's schema. */
async function listenerPids(): Promise<number[]> {
  const { rows } = await db.pool.query(
    `SELECT pid FROM pg_stat_activity WHERE application_name = 'djps worker' AND query LIKE 'LISTEN%' AND query LIKE $1`,
    [`%${db.schema}%`],
  );
  return rows.map((r: { pid: number }) => r.pid);
}

describe("LISTEN/NOTIFY", () => {
  it("an idle worker polling once a minute runs a job enqueued after it started, promptly", async () => {
    const worker = bed.worker({ ping: async () => "pong" }, { pollIntervalMs: ONCE_A_MINUTE });
    await worker.start();
    // Let the first claim (at start) find nothing, so the worker is idle and waiting.
    await waitFor(async () => (await listenerPids()).length === 1, "the LISTEN connection");
    for (let i = 0; i < 3; i++) {
      const succeeded = nextEvent(worker, "job:succeeded", () => true, PROMPTLY);
      const { job } = await queue.enqueue("ping", { i });
      expect((await succeeded).job.id).toBe(job.id);
    }
  });

  it("a job enqueued inside a transaction wakes the worker when it commits", async () => {
    const worker = bed.worker({ txn: async () => "ok" }, { pollIntervalMs: ONCE_A_MINUTE });
    await worker.start();
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      const { job } = await queue.enqueue("txn", null, { client });
      const succeeded = nextEvent(worker, "job:succeeded", () => true, PROMPTLY);
      await client.query("COMMIT");
      expect((await succeeded).job.id).toBe(job.id);
    } finally {
      client.release();
    }
  });

  it("reconnects after its backend is terminated, and is woken again", async () => {
    const worker = bed.worker({ again: async () => "ok" }, { pollIntervalMs: ONCE_A_MINUTE });
    const errors = collect(worker, "worker:error");
    await worker.start();
    const [pid] = await waitFor(async () => {
      const pids = await listenerPids();
      return pids.length === 1 ? pids : null;
    }, "the LISTEN connection");
    const relistened = nextEvent(worker, "worker:listening", (e) => e.reconnect, PROMPTLY);
    await db.pool.query("SELECT pg_terminate_backend($1)", [pid]);
    await relistened;
    expect(errors.map((e) => e.during)).toEqual(["listening for notifications (reconnecting)"]);
    const [newPid] = await listenerPids();
    expect(newPid).not.toBe(pid);

    const succeeded = nextEvent(worker, "job:succeeded", () => true, PROMPTLY);
    const { job } = await queue.enqueue("again", null);
    expect((await succeeded).job.id).toBe(job.id);
  });

  it("finds jobs enqueued while it was not listening, once it listens again", async () => {
    const worker = bed.worker({ gap: async () => "ok" }, { pollIntervalMs: ONCE_A_MINUTE });
    await worker.start();
    const [pid] = await waitFor(async () => {
      const pids = await listenerPids();
      return pids.length === 1 ? pids : null;
    }, "the LISTEN connection");
    const relistened = nextEvent(worker, "worker:listening", (e) => e.reconnect, PROMPTLY);
    const succeeded = nextEvent(worker, "job:succeeded", () => true, PROMPTLY);
    await db.pool.query("SELECT pg_terminate_backend($1)", [pid]);
    // Enqueued at once, likely before the new LISTEN is in place: its notification may be missed.
    const { job } = await queue.enqueue("gap", null);
    await relistened;
    expect((await succeeded).job.id).toBe(job.id);
  });

  it("with listen: false, polling alone runs jobs and no LISTEN connection is opened", async () => {
    const worker = bed.worker({ polled: async (p) => (p as number) * 2 }, { listen: false, pollIntervalMs: 100 });
    const listening = collect(worker, "worker:listening");
    await worker.start();
    const ids = (await queue.enqueueMany([1, 2, 3].map((n) => ({ type: "polled", payload: n })))).map((r) => r.job.id);
    await waitFor(async () => {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE id = ANY($1) AND status = 'succeeded'`, [ids]);
      return rows[0].n === 3;
    }, "three polled jobs to succeed");
    expect((await jobRow(db.pool, db.schema, ids[2]!)).result).toBe(6);
    expect(listening).toEqual([]);
    expect(await listenerPids()).toEqual([]);
  });
});

describe("the LISTEN connection", () => {
  it("goes back to a pool it was lent from without djps's listeners on it", async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const worker = new Worker({ t: async () => 1 }, { pool, schema: db.schema });
      await worker.start();
      await worker.stop({ timeoutMs: 0 });
      // Both connections (the LISTEN one among them) are idle in the pool:
      // checked out again, neither carries a notification or error listener.
      const clients = await Promise.all([pool.connect(), pool.connect()]);
      for (const client of clients) {
        expect(client.listenerCount("notification")).toBe(0);
        expect(client.listenerCount("error")).toBe(0);
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
});

describe("what a worker takes", () => {
  it("only jobs from its queues", async () => {
    const worker = bed.worker({ q: async () => "ran" }, { queues: ["a"], pollIntervalMs: 50 });
    const b = (await queue.enqueue("q", null, { queue: "b" })).job;
    const a = (await queue.enqueue("q", null, { queue: "a" })).job;
    const succeeded = nextEvent(worker, "job:succeeded", (e) => e.job.id === a.id);
    await worker.start();
    await succeeded;
    // A notification for queue b does not matter to it either; a second a-job after it shows a round went by.
    const b2 = (await queue.enqueue("q", null, { queue: "b" })).job;
    const a2Done = nextEvent(worker, "job:succeeded", () => true, PROMPTLY);
    await queue.enqueue("q", null, { queue: "a" });
    await a2Done;
    expect(await jobRow(db.pool, db.schema, b.id)).toMatchObject({ status: "queued", attempts: 0, locked_by: null });
    expect(await jobRow(db.pool, db.schema, b2.id)).toMatchObject({ status: "queued", attempts: 0 });
  });

  it("only job types it has handlers for", async () => {
    const worker = bed.worker({ known: async () => "ran" }, { pollIntervalMs: 50 });
    const unknown = (await queue.enqueue("unknown", null, { queue: "c" })).job;
    const known = (await queue.enqueue("known", null, { queue: "c" })).job;
    const succeeded = nextEvent(worker, "job:succeeded", (e) => e.job.id === known.id);
    await worker.start();
    await succeeded;
    const again = nextEvent(worker, "job:succeeded", () => true, PROMPTLY);
    await queue.enqueue("known", null, { queue: "c" });
    await again;
    expect(await jobRow(db.pool, db.schema, unknown.id)).toMatchObject({ status: "queued", attempts: 0, locked_by: null });
    expect(worker.types).toEqual(["known"]);
  });
});
