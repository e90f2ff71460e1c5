import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";

const bed = useTestBed("qt");
let db: TestSchema;
let queue: Queue;
let listener: pg.Client;
let channel: string;
/** Every notification payload received on the jobs channel, in arrival order. */
let heard: string[] = [];

beforeAll(async () => {
  ({ db, queue } = bed);
  channel = `djps:${db.schema}:jobs`;
  listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  listener.on("notification", (n) => {
    if (n.channel === channel) heard.push(n.payload ?? "");
  });
  await listener.query(`LISTEN "${channel}"`);
  await db.pool.query(`CREATE TABLE "${db.schema}".orders (id int PRIMARY KEY)`);
});
afterAll(async () => {
  await listener.end();
});
beforeEach(() => {
  heard = [];
});

let markers = 0;
/**
 * Sends a marker notification from another session and waits until it
 * arrives. Notifications are delivered in commit order, so everything
 * committed before the marker has been heard by then.
 */
async function drain(): Promise<string[]> {
  const marker = `marker-${++markers}`;
  await db.pool.query("SELECT pg_notify($1, $2)", [channel, marker]);
  await waitFor(() => heard.includes(marker), `notification ${marker}`, 10_000);
  return heard.splice(0).filter((p) => p !== marker);
}

async function count(where = "true"): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE ${where}`);
  return rows[0].n;
}

async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>, end: "COMMIT" | "ROLLBACK"): Promise<T> {
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    const value = await fn(client);
    await client.query(end);
    return value;
  } finally {
    client.release();
  }
}

describe("enqueue inside the caller's transaction", () => {
  it("writes nothing and wakes no one when the transaction rolls back", async () => {
    const id = await inTransaction(async (client) => {
      const { job, created } = await queue.enqueue("tx", { n: 1 }, { client, idempotencyKey: "rolled" });
      expect(created).toBe(true);
      // The caller's own session sees it; nobody else does.
      expect((await queue.getJob(job.id, { client }))?.id).toBe(job.id);
      expect(await queue.getJob(job.id)).toBeNull();
      return job.id;
    }, "ROLLBACK");
    expect(await queue.getJob(id)).toBeNull();
    expect(await count("type = 'tx'")).toBe(0);
    expect(await drain()).toEqual([]);
    // The key was never taken.
    const again = await queue.enqueue("tx", { n: 2 }, { idempotencyKey: "rolled" });
    expect(again.created).toBe(true);
    await waitFor(() => heard.includes("default"), "the enqueue's notification", 10_000);
    expect(await drain()).toEqual(["default"]);
  });

  it("commits the job with the caller's data, and the NOTIFY goes out only at commit", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`INSERT INTO "${db.schema}".orders VALUES (1)`);
      const { job } = await queue.enqueue("ship_order", { order: 1 }, { client, queue: "shipping" });
      // Before COMMIT: not visible elsewhere, and no notification was delivered.
      expect(await count("type = 'ship_order'")).toBe(0);
      expect(await drain()).toEqual([]);
      await client.query("COMMIT");

      await waitFor(() => heard.includes("shipping"), "the enqueue's notification", 10_000);
      expect(await drain()).toEqual(["shipping"]);
      const stored = await queue.getJob(job.id);
      expect(stored).toMatchObject({ id: job.id, queue: "shipping", status: "queued", payload: { order: 1 } });
      const orders = await db.pool.query(`SELECT id FROM "${db.schema}".orders`);
      expect(orders.rows).toEqual([{ id: 1 }]);
    } finally {
      client.release();
    }
  });

  it("wakes no one for a job that is not runnable yet", async () => {
    await inTransaction((client) => queue.enqueue("later", {}, { client, delayMs: 60_000, queue: "slow" }), "COMMIT");
    await queue.enqueue("later", {}, { runAt: new Date(Date.now() + 60_000), queue: "slow" });
    expect(await count("type = 'later'")).toBe(2);
    expect(await drain()).toEqual([]);
  });

  it("wakes no one when the key already existed", async () => {
    await queue.enqueue("keyed", {}, { idempotencyKey: "k", queue: "kq" });
    // Within the throttle window the wake-up trails the enqueue by a few ms.
    await waitFor(() => heard.includes("kq"), "the first enqueue's notification", 10_000);
    expect(await drain()).toEqual(["kq"]);
    const { created } = await inTransaction((client) => queue.enqueue("keyed", {}, { idempotencyKey: "k", client, queue: "kq" }), "COMMIT");
    expect(created).toBe(false);
    expect(await drain()).toEqual([]);
  });

  it("works with any object that has query(text, values)", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      const seen: string[] = [];
      const wrapper = {
        query: async (text: string, values?: unknown[]) => {
          seen.push(text);
          const result = await client.query(text, values);
          return { rows: result.rows, rowCount: result.rowCount };
        },
      };
      const { job } = await queue.enqueue("wrapped", { ok: true }, { client: wrapper });
      expect(seen).toHaveLength(1);
      await client.query("COMMIT");
      expect((await queue.getJob(job.id))?.payload).toEqual({ ok: true });
      await waitFor(() => heard.includes("default"), "the enqueue's notification", 10_000);
    } finally {
      client.release();
    }
  });
});

describe("enqueueMany inside the caller's transaction", () => {
  it("writes nothing when the transaction rolls back", async () => {
    const results = await inTransaction(
      (client) =>
        queue.enqueueMany(
          [
            { type: "many_rb", payload: 1, options: { queue: "a" } },
            { type: "many_rb", payload: 2, options: { queue: "b", idempotencyKey: "rb" } },
          ],
          { client },
        ),
      "ROLLBACK",
    );
    expect(results.map((r) => r.created)).toEqual([true, true]);
    expect(await count("type = 'many_rb'")).toBe(0);
    for (const r of results) expect(await queue.getJob(r.job.id)).toBeNull();
    expect(await drain()).toEqual([]);
  });

  it("commits every job and sends one notification per queue with runnable jobs, at commit", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      const results = await queue.enqueueMany(
        [
          { type: "many_ok", payload: 1, options: { queue: "alpha" } },
          { type: "many_ok", payload: 2, options: { queue: "alpha" } },
          { type: "many_ok", payload: 3, options: { queue: "beta", idempotencyKey: "b1" } },
          { type: "many_ok", payload: 4, options: { queue: "gamma", delayMs: 60_000 } },
        ],
        { client },
      );
      expect(await count("type = 'many_ok'")).toBe(0);
      expect(await drain()).toEqual([]);
      await client.query("COMMIT");

      await waitFor(() => heard.includes("alpha") && heard.includes("beta"), "the batch's notifications", 10_000);
      expect((await drain()).sort()).toEqual(["alpha", "beta"]);
      expect(await count("type = 'many_ok'")).toBe(4);
      for (const r of results) expect((await queue.getJob(r.job.id))?.payload).toEqual(r.job.payload);
    } finally {
      client.release();
    }
  });
});

describe("enqueueMany without keys inside the caller's transaction", () => {
  /** A client of another driver in its shape: only `query(text, values)`, and no pg.Client. */
  const foreign = (client: pg.PoolClient, sent: unknown[][]) => ({
    query: (text: string, values?: unknown[]) => {
      sent.push(values ?? []);
      return client.query(text, values);
    },
  });

  for (const driver of ["pg", "another driver"] as const) {
    it(`writes nothing on rollback, and notifies only the queues with runnable jobs at commit (${driver})`, async () => {
      const sent: unknown[][] = [];
      const items = (tag: string) => [
        { type: `keyless_${tag}`, payload: { n: 1 }, options: { queue: `${tag}-now` } },
        { type: `keyless_${tag}`, payload: { n: 2 }, options: { queue: `${tag}-later`, delayMs: 60_000 } },
        { type: `keyless_${tag}`, payload: { n: 3 }, options: { queue: `${tag}-past`, runAt: new Date(Date.now() - 60_000) } },
        { type: `keyless_${tag}`, payload: { n: 4 }, options: { queue: `${tag}-future`, runAt: new Date(Date.now() + 60_000) } },
        { type: `keyless_${tag}`, payload: { n: 5 }, options: { queue: `${tag}-now` } },
      ];
      const via = (client: pg.PoolClient) => (driver === "pg" ? client : (foreign(client, sent) as unknown as pg.PoolClient));
      const tag = driver === "pg" ? "kp" : "kf";

      const rolledBack = await inTransaction((client) => queue.enqueueMany(items(`${tag}rb`), { client: via(client) }), "ROLLBACK");
      expect(rolledBack.map((r) => r.created)).toEqual([true, true, true, true, true]);
      expect(await count(`type = 'keyless_${tag}rb'`)).toBe(0);
      expect(await drain()).toEqual([]);

      const client = await db.pool.connect();
      try {
        await client.query("BEGIN");
        const results = await queue.enqueueMany(items(tag), { client: via(client) });
        expect(await count(`type = 'keyless_${tag}'`)).toBe(0);
        await client.query("COMMIT");
        await waitFor(() => heard.includes(`${tag}-now`) && heard.includes(`${tag}-past`), "the batch's notifications", 10_000);
        expect((await drain()).sort()).toEqual([`${tag}-now`, `${tag}-past`]);
        for (const r of results) expect(await queue.getJob(r.job.id)).toEqual(r.job);
      } finally {
        client.release();
      }
      // Another driver gets plain values, never pg's binary Buffers.
      if (driver === "another driver") expect(sent.flat().some((v) => Buffer.isBuffer(v))).toBe(false);
      else expect(sent).toEqual([]);
    });
  }
});

describe("enqueueMany with keys through another driver's client", () => {
  it("sends plain values, keeps the idempotency rule, and commits with the caller", async () => {
    const existing = await queue.enqueue("foreign_keyed", { first: true }, { idempotencyKey: "fk-1", queue: "fq" });
    await drain();
    const sent: unknown[][] = [];
    const client = await db.pool.connect();
    try {
      const foreign = {
        query: (text: string, values?: unknown[]) => {
          sent.push(values ?? []);
          return client.query(text, values);
        },
      } as unknown as pg.PoolClient;
      await client.query("BEGIN");
      const results = await queue.enqueueMany(
        [
          { type: "foreign_keyed", payload: { n: 1 }, options: { idempotencyKey: "fk-1" } },
          { type: "foreign_keyed", payload: { n: 2 }, options: { idempotencyKey: "fk-2", queue: "fq", priority: 3 } },
          { type: "foreign_other", payload: { n: 3 }, options: { delayMs: 60_000, timeoutMs: 50 } },
          { type: "foreign_keyed", payload: { n: 4 }, options: { idempotencyKey: "fk-2" } },
          { type: "foreign_other", payload: { n: 5 }, options: { runAt: new Date("2030-01-01T00:00:00Z"), maxAttempts: 9 } },
        ],
        { client: foreign },
      );
      await client.query("COMMIT");
      expect(results.map((r) => r.created)).toEqual([false, true, true, false, true]);
      expect(results[0]!.job).toEqual(existing.job);
      expect(results[3]!.job).toEqual(results[1]!.job);
      for (const r of results) expect(await queue.getJob(r.job.id)).toEqual(r.job);
      expect(sent).toHaveLength(1);
      expect(sent.flat().some((v) => Buffer.isBuffer(v))).toBe(false);
      // Only fq got a new job that runs now: default's are delayed or scheduled.
      await waitFor(() => heard.includes("fq"), "the batch's notification", 10_000);
      expect(await drain()).toEqual(["fq"]);
    } finally {
      client.release();
    }
  });
});

describe("retry", () => {
  it("wakes the job's queue", async () => {
    const { job } = await queue.enqueue("to_retry", {}, { queue: "rq" });
    await db.pool.query(`UPDATE "${db.schema}".jobs SET status = 'dead', finished_at = now() WHERE id = $1`, [job.id]);
    await waitFor(() => heard.includes("rq"), "the enqueue's notification", 10_000);
    expect(await drain()).toEqual(["rq"]);
    await queue.retry(job.id);
    await waitFor(() => heard.includes("rq"), "the retry's notification", 10_000);
    expect(await drain()).toEqual(["rq"]);
  });
});
