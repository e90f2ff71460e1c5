import type pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { Queue, ValidationError } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import type { TestSchema } from "./support/db.js";

const bed = useTestBed("qb");
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

async function count(where = "true", values: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE ${where}`, values);
  return rows[0].n;
}

/** A real connection that counts the statements sent through it. */
async function countingClient(): Promise<{ client: pg.PoolClient; statements: string[]; release(): void }> {
  const client = await db.pool.connect();
  const statements: string[] = [];
  return {
    statements,
    release: () => client.release(),
    client: {
      query: (text: string, values?: unknown[]) => {
        statements.push(text);
        return client.query(text, values);
      },
    } as unknown as pg.PoolClient,
  };
}

describe("enqueueMany", () => {
  it("returns each job as stored, whether it was inserted or already existed", async () => {
    const existing = await queue.enqueue("stored-a", { first: true }, { idempotencyKey: "k-1", priority: 3 });
    const results = await queue.enqueueMany([
      { type: "stored-a", payload: { zz: 1, a: [1.5, "x", null], bb: { c: true } }, options: { queue: "q9", priority: -2, maxAttempts: 9, timeoutMs: 1234, idempotencyKey: "k-2" } },
      { type: "stored-a", payload: "ignored", options: { idempotencyKey: "k-1" } },
      { type: "stored-b", payload: null, options: { delayMs: 90_000 } },
      { type: "stored-b", payload: 42, options: { runAt: new Date("2031-05-06T07:08:09.123Z") } },
    ]);
    expect(results.map((r) => r.created)).toEqual([true, false, true, true]);
    expect(results[1]!.job).toEqual(existing.job);
    for (const { job } of results) expect(await queue.getJob(job.id)).toEqual(job);
    const single = await queue.enqueue("stored-c", { deep: { list: [{}, []] } }, { queue: "q8", priority: 1, timeoutMs: 50, idempotencyKey: "k-3" });
    expect(await queue.getJob(single.job.id)).toEqual(single.job);
    const again = await queue.enqueue("stored-c", {}, { idempotencyKey: "k-3" });
    expect(again).toEqual({ job: single.job, created: false });
  });

  it("returns [] for an empty array and writes nothing", async () => {
    const before = await count();
    expect(await queue.enqueueMany([])).toEqual([]);
    expect(await count()).toBe(before);
  });

  it("inserts every item in one statement, with results in item order", async () => {
    const counting = await countingClient();
    try {
      const items = [
        { type: "a", payload: { i: 0 } },
        { type: "b", payload: { i: 1 }, options: { priority: 5, queue: "q1", maxAttempts: 7 } },
        { type: "a", payload: { i: 2 }, options: { delayMs: 60_000, timeoutMs: 900 } },
        { type: "c", payload: [1, 2, 3], options: { runAt: new Date("2030-01-01T00:00:00Z") } },
      ];
      const results = await queue.enqueueMany(items, { client: counting.client });
      expect(counting.statements).toHaveLength(1);
      expect(results.map((r) => r.created)).toEqual([true, true, true, true]);
      expect(results.map((r) => r.job.payload)).toEqual(items.map((i) => i.payload));
      expect(results.map((r) => r.job.type)).toEqual(["a", "b", "a", "c"]);
      expect(results[1]!.job).toMatchObject({ priority: 5, queue: "q1", maxAttempts: 7 });
      expect(results[0]!.job).toMatchObject({ priority: 0, queue: "default", maxAttempts: 3, timeoutMs: null, status: "queued" });
      expect(results[2]!.job.runAt.getTime() - results[2]!.job.createdAt.getTime()).toBe(60_000);
      expect(results[2]!.job.timeoutMs).toBe(900);
      expect(results[3]!.job.runAt.toISOString()).toBe("2030-01-01T00:00:00.000Z");
      expect(results[0]!.job.createdAt).toBeInstanceOf(Date);

      for (const r of results) {
        const { rows } = await db.pool.query(`SELECT type, payload, priority, queue FROM "${db.schema}".jobs WHERE id = $1`, [r.job.id]);
        expect(rows[0]).toEqual({ type: r.job.type, payload: r.job.payload, priority: r.job.priority, queue: r.job.queue });
      }
    } finally {
      counting.release();
    }
  });

  it("gives a batch ids in item order, so equal jobs are claimed first in, first out", async () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ type: "fifo", payload: i }));
    const results = await queue.enqueueMany(items);
    const ids = results.map((r) => r.job.id);
    expect([...ids].sort()).toEqual(ids);
    const { rows } = await db.pool.query(
      `SELECT payload FROM "${db.schema}".jobs WHERE type = 'fifo' ORDER BY priority DESC, run_at, id`,
    );
    expect(rows.map((r) => r.payload)).toEqual(items.map((i) => i.payload));
  });

  it("gives a repeated key inside the batch the first item's job, created: false", async () => {
    const results = await queue.enqueueMany([
      { type: "dup", payload: 1, options: { idempotencyKey: "k1" } },
      { type: "dup", payload: 2, options: { idempotencyKey: "k2" } },
      { type: "dup", payload: 3, options: { idempotencyKey: "k1" } },
      { type: "other", payload: 4, options: { idempotencyKey: "k1" } },
      { type: "dup", payload: 5, options: { idempotencyKey: "k1" } },
    ]);
    expect(results.map((r) => r.created)).toEqual([true, true, false, true, false]);
    expect(results[2]!.job).toEqual(results[0]!.job);
    expect(results[4]!.job).toEqual(results[0]!.job);
    expect(results[2]!.job.payload).toBe(1);
    expect(results[3]!.job.id).not.toBe(results[0]!.job.id);
    expect(await count("type IN ('dup', 'other')")).toBe(3);
  });

  it("returns existing rows for keys already stored, created: false", async () => {
    const existing = await queue.enqueue("exist", { first: true }, { idempotencyKey: "e1", priority: 3 });
    const results = await queue.enqueueMany([
      { type: "exist", payload: { first: false }, options: { idempotencyKey: "e1" } },
      { type: "exist", payload: { fresh: true }, options: { idempotencyKey: "e2" } },
      { type: "exist", payload: { again: true }, options: { idempotencyKey: "e1" } },
    ]);
    expect(results.map((r) => r.created)).toEqual([false, true, false]);
    expect(results[0]!.job).toEqual(existing.job);
    expect(results[2]!.job).toEqual(existing.job);
    expect(results[1]!.job.payload).toEqual({ fresh: true });
    expect(await count("type = 'exist'")).toBe(2);
  });

  it("mixes keyed and keyless items", async () => {
    await queue.enqueue("mix", "old", { idempotencyKey: "m-old" });
    const results = await queue.enqueueMany([
      { type: "mix", payload: "a" },
      { type: "mix", payload: "b", options: { idempotencyKey: "m-old" } },
      { type: "mix", payload: "c" },
      { type: "mix", payload: "d", options: { idempotencyKey: "m-new" } },
      { type: "mix", payload: "e", options: { idempotencyKey: "m-new" } },
      { type: "mix", payload: "f" },
    ]);
    expect(results.map((r) => r.created)).toEqual([true, false, true, true, false, true]);
    expect(results.map((r) => r.job.payload)).toEqual(["a", "old", "c", "d", "d", "f"]);
    expect(new Set(results.map((r) => r.job.id)).size).toBe(5);
    expect(await count("type = 'mix'")).toBe(5);
  });

  it("stores a batch of 5,000", async () => {
    const items = Array.from({ length: 5_000 }, (_, i) => ({
      type: "bulk",
      payload: { i },
      options: i % 2 ? { idempotencyKey: `bulk-${i}` } : { priority: i % 7 },
    }));
    const results = await queue.enqueueMany(items);
    expect(results).toHaveLength(5_000);
    expect(results.every((r, i) => r.created && (r.job.payload as { i: number }).i === i)).toBe(true);
    expect(await count("type = 'bulk'")).toBe(5_000);
    const { rows } = await db.pool.query(
      `SELECT count(DISTINCT payload->'i')::int AS n, sum((payload->>'i')::int)::bigint AS s FROM "${db.schema}".jobs WHERE type = 'bulk'`,
    );
    expect(rows[0].n).toBe(5_000);
    expect(Number(rows[0].s)).toBe((4_999 * 5_000) / 2);

    // The same batch again: every keyed item comes back as it was, the keyless ones are new.
    const again = await queue.enqueueMany(items);
    expect(again.filter((r) => r.created)).toHaveLength(2_500);
    again.forEach((r, i) => {
      if (i % 2) expect(r.job.id).toBe(results[i]!.job.id);
    });
    expect(await count("type = 'bulk'")).toBe(7_500);
  });

  it("returns each job of a batch without keys as stored, whether its options vary or not", async () => {
    const past = new Date(Date.now() - 5_000);
    const future = new Date("2031-05-06T07:08:09.123Z");
    const varied = await queue.enqueueMany([
      { type: "plain-a", payload: { zz: 1, a: [1.5, "x", null], bb: { c: true } }, options: { queue: "p9", priority: -2, maxAttempts: 9, timeoutMs: 1234 } },
      { type: "plain-b", payload: null, options: { delayMs: 1 } },
      { type: "plain-b", payload: 42, options: { runAt: future } },
      { type: "plain-a", payload: "s", options: { delayMs: 1_234_567, priority: 32767 } },
      { type: "plain-c", payload: [], options: { runAt: past, queue: "p8", timeoutMs: 1 } },
    ]);
    const same = await queue.enqueueMany(
      Array.from({ length: 4 }, (_, i) => ({ type: "plain-d", payload: { i }, options: { queue: "p7", priority: 4, maxAttempts: 7, timeoutMs: 999, delayMs: 86_400_007 } })),
    );
    const dated = await queue.enqueueMany([1, 2].map((i) => ({ type: "plain-e", payload: i, options: { runAt: future } })));
    for (const { job, created } of [...varied, ...same, ...dated]) {
      expect(created).toBe(true);
      expect(await queue.getJob(job.id)).toEqual(job);
    }
    expect(varied[1]!.job.runAt.getTime() - varied[1]!.job.createdAt.getTime()).toBe(1);
    expect(varied[2]!.job.runAt).toEqual(future);
    expect(same.map((r) => r.job)).toMatchObject(Array(4).fill({ queue: "p7", priority: 4, maxAttempts: 7, timeoutMs: 999 }));
    expect(same[0]!.job.runAt.getTime() - same[0]!.job.createdAt.getTime()).toBe(86_400_007);
    expect(dated.map((r) => r.job.runAt)).toEqual([future, future]);
  });

  it("stores run times at the ends of the range, sent once, per job, or with keys", async () => {
    const edges = [new Date(-210_866_803_200_000), new Date(Date.UTC(1, 0, 1) - 1), new Date("1999-12-31T23:59:59.999Z"), new Date(8.64e15)];
    const batches = [
      ...edges.map((runAt) => [1, 2].map((i) => ({ type: "edge", payload: i, options: { runAt } }))),
      edges.map((runAt, i) => ({ type: "edge", payload: i, options: { runAt } })),
      edges.map((runAt, i) => ({ type: "edge", payload: i, options: { runAt, idempotencyKey: `edge-${i}` } })),
    ];
    for (const items of batches) {
      const results = await queue.enqueueMany(items);
      for (const [i, { job }] of results.entries()) {
        expect(job.runAt.getTime()).toBe(items[i]!.options.runAt.getTime());
        const { rows } = await db.pool.query(`SELECT (extract(epoch FROM run_at) * 1000)::float8 AS ms FROM "${db.schema}".jobs WHERE id = $1`, [job.id]);
        expect(rows[0].ms).toBe(items[i]!.options.runAt.getTime());
        expect(await queue.getJob(job.id)).toEqual(job);
      }
    }
    await db.pool.query(`DELETE FROM "${db.schema}".jobs WHERE type = 'edge'`);
  });

  it("gives the caller copies: changing a returned job's dates changes nothing else", async () => {
    const runAt = new Date("2030-01-01T00:00:00Z");
    const [a, b] = await queue.enqueueMany([1, 2].map((i) => ({ type: "copies", payload: i, options: { runAt } })));
    a!.job.runAt.setTime(0);
    a!.job.createdAt.setTime(0);
    expect(runAt.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect(b!.job.runAt.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect(b!.job.createdAt.getTime()).not.toBe(0);
  });

  it("stores large payloads with any characters, keyed or not", async () => {
    const big = (i: number) => ({ i, text: `"quotes" \\ back\\slash\ttab\nline ${"naïve 日本 🎉 ".repeat(10_000)}`, list: Array.from({ length: 2_000 }, (_, k) => k * i) });
    for (const keyed of [false, true]) {
      const items = [0, 1, 2].map((i) => ({ type: "large", payload: big(i), options: keyed ? { idempotencyKey: `large-${i}` } : {} }));
      const results = await queue.enqueueMany(items);
      for (const [i, { job }] of results.entries()) {
        expect(job.payload).toEqual(big(i));
        expect((await queue.getJob(job.id))!.payload).toEqual(big(i));
      }
    }
  });

  it("keeps item order across a batch without keys of 20,000 jobs", async () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({ type: "order", payload: i }));
    const results = await queue.enqueueMany(items);
    expect(results.map((r) => r.job.payload)).toEqual(items.map((i) => i.payload));
    const ids = results.map((r) => r.job.id);
    expect(new Set(ids).size).toBe(20_000);
    expect([...ids].sort()).toEqual(ids);
    const { rows } = await db.pool.query(`SELECT payload FROM "${db.schema}".jobs WHERE type = 'order' ORDER BY priority DESC, run_at, id`);
    expect(rows.map((r) => r.payload)).toEqual(items.map((i) => i.payload));
  });

  it("does not deadlock when concurrent batches share keys in different orders", async () => {
    const racers = Array.from({ length: 4 }, () => new Queue({ connectionString: db.url, schema: db.schema, poolSize: 1 }));
    try {
      for (let round = 0; round < 5; round++) {
        const keys = Array.from({ length: 300 }, (_, i) => `r${round}-${i}`);
        const orders = [keys, [...keys].reverse(), [...keys.slice(150), ...keys.slice(0, 150)], [...keys].sort(() => Math.random() - 0.5)];
        const results = await Promise.all(
          racers.map((q, i) => q.enqueueMany(orders[i]!.map((key) => ({ type: "shared", payload: { key }, options: { idempotencyKey: key } })))),
        );
        const created = results.flat().filter((r) => r.created);
        expect(created).toHaveLength(keys.length);
        const byKey = new Map<string, string>();
        for (const r of results.flat()) {
          const key = r.job.idempotencyKey!;
          expect(byKey.get(key) ?? r.job.id).toBe(r.job.id);
          byKey.set(key, r.job.id);
        }
        expect(await count("type = 'shared' AND idempotency_key LIKE $1", [`r${round}-%`])).toBe(keys.length);
      }
    } finally {
      await Promise.all(racers.map((q) => q.close()));
    }
  });

  it("does not deadlock when batches of one type and of several types share keys", async () => {
    // A batch of one type sends its types once and sorts by key alone; one of
    // several types sorts by (type, key): both take the shared keys in the same order.
    const racers = Array.from({ length: 4 }, () => new Queue({ connectionString: db.url, schema: db.schema, poolSize: 1 }));
    try {
      for (let round = 0; round < 5; round++) {
        const keys = Array.from({ length: 300 }, (_, i) => `m${round}-${String(i).padStart(3, "0")}`);
        const batches = racers.map((_, r) => {
          const order = r % 2 ? [...keys].reverse() : [...keys].sort(() => Math.random() - 0.5);
          const items: Array<{ type: string; payload: unknown; options?: { idempotencyKey: string } }> = order.map((key) => ({ type: "shared-m", payload: { key }, options: { idempotencyKey: key } }));
          // Racers 2 and 3 mix in jobs of other types (with and without keys), so their types vary.
          if (r >= 2) items.push(...keys.slice(0, 50).map((key) => ({ type: `other-${r}`, payload: { key }, options: { idempotencyKey: key } })), { type: "plain-m", payload: { key: "" } });
          return items;
        });
        const results = await Promise.all(racers.map((q, r) => q.enqueueMany(batches[r]!)));
        const byKey = new Map<string, string>();
        for (const r of results.flat()) {
          if (r.job.type !== "shared-m") continue;
          expect(byKey.get(r.job.idempotencyKey!) ?? r.job.id).toBe(r.job.id);
          byKey.set(r.job.idempotencyKey!, r.job.id);
        }
        expect(byKey.size).toBe(keys.length);
        expect(await count("type = 'shared-m' AND idempotency_key LIKE $1", [`m${round}-%`])).toBe(keys.length);
      }
    } finally {
      await Promise.all(racers.map((q) => q.close()));
    }
  });

  it("writes nothing when one item is invalid", async () => {
    const before = await count();
    const error = await queue
      .enqueueMany([
        { type: "ok", payload: 1 },
        { type: "ok", payload: 2, options: { priority: 1.5 } },
      ])
      .catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe("items.1.options.priority");
    expect(error.message).toBe(
      "Expected `items.1.options.priority` to be an integer from -32768 to 32767, got `1.5` (number)",
    );
    expect(await count()).toBe(before);
  });
});
