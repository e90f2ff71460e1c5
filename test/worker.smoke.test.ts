import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { Queue, Worker } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";

const bed = useTestBed("ws");
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

describe("worker basics", () => {
  it("runs enqueued jobs and stores their results", async () => {
    const seen: number[] = [];
    const worker = bed.worker(
      { add: async (payload) => { const p = payload as { a: number; b: number }; seen.push(p.a); return { sum: p.a + p.b }; } },
      { concurrency: 5 },
    );
    await worker.start();
    try {
      const ids = (await queue.enqueueMany(Array.from({ length: 100 }, (_, i) => ({ type: "add", payload: { a: i, b: 1 } })))).map((r) => r.job.id);
      await waitFor(async () => {
        const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE status = 'succeeded'`);
        return rows[0].n === 100;
      }, "100 jobs to succeed");
      const job = await queue.getJob(ids[7]!);
      expect(job?.result).toEqual({ sum: 8 });
      expect(job?.attempts).toBe(1);
      expect(job?.lockedUntil).toBeNull();
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await worker.stop();
    }
  });
});

describe("the claim's asynchronous commit", () => {
  it("stays inside the claim's transaction: the worker's connection keeps its own synchronous_commit", async () => {
    // One connection, no LISTEN: every statement of the worker, and ours, runs
    // on it. The test server runs with synchronous_commit off; this session
    // turns it on, as a production server would have it.
    const pool = new pg.Pool({ connectionString: db.url, max: 1, options: "-c synchronous_commit=on" });
    const worker = new Worker({ sc: async () => "done" }, { pool, schema: db.schema, listen: false, pollIntervalMs: 20 });
    try {
      const { job } = await queue.enqueue("sc", {});
      await worker.start();
      await waitFor(async () => (await queue.getJob(job.id))?.status === "succeeded", "the job to succeed");
      const { rows } = await pool.query("SELECT current_setting('synchronous_commit') AS s");
      expect(rows[0].s).toBe("on");
    } finally {
      await worker.stop();
      await pool.end();
    }
  });
});

describe("queue events", () => {
  it("emits job:enqueued for each enqueued job, created or found by key", async () => {
    const seen: Array<{ id: string; created: boolean }> = [];
    const listener = ({ job, created }: { job: { id: string }; created: boolean }) => seen.push({ id: job.id, created });
    queue.on("job:enqueued", listener);
    try {
      const a = await queue.enqueue("ev", {}, { idempotencyKey: "ev-1" });
      const b = await queue.enqueue("ev", {}, { idempotencyKey: "ev-1" });
      const many = await queue.enqueueMany([{ type: "ev", payload: 1 }, { type: "ev", payload: 2, options: { idempotencyKey: "ev-1" } }]);
      expect(seen).toEqual([
        { id: a.job.id, created: true },
        { id: a.job.id, created: false },
        { id: many[0]!.job.id, created: true },
        { id: b.job.id, created: false },
      ]);
    } finally {
      queue.off("job:enqueued", listener);
    }
  });
});

describe("starting", () => {
  it("refuses an unmigrated schema with a hint, and can be started again once it is migrated", async () => {
    const { migrate, ConfigError } = await import("../src/index.js");
    const schema = `${db.schema}_late`;
    const worker = new Worker({ t: async () => 1 }, { connectionString: db.url, schema });
    try {
      const error = await worker.start().catch((e) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain(`npx djps migrate --schema ${schema}`);
      await migrate({ connectionString: db.url, schema });
      await worker.start();
      const late = new Queue({ connectionString: db.url, schema });
      const { job } = await late.enqueue("t", null);
      await waitFor(async () => (await late.getJob(job.id))?.status === "succeeded", "the job to run after a second start");
      await late.close();
    } finally {
      await worker.stop();
      await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});
