import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";

const bed = useTestBed("qe");
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function row(id: string) {
  const { rows } = await db.pool.query(
    `SELECT *, extract(epoch FROM run_at - created_at) * 1000 AS delay_ms FROM "${db.schema}".jobs WHERE id = $1`,
    [id],
  );
  return rows[0];
}

async function count(where = "true", values: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE ${where}`, values);
  return rows[0].n;
}

describe("enqueue", () => {
  it("stores a job with the defaults and returns it in camelCase with Dates", async () => {
    const { job, created } = await queue.enqueue("send_email", { to: "a@b.com", n: [1, 2, { x: null }] });
    expect(created).toBe(true);
    expect(job).toEqual({
      id: expect.stringMatching(UUID),
      queue: "default",
      type: "send_email",
      payload: { to: "a@b.com", n: [1, 2, { x: null }] },
      status: "queued",
      priority: 0,
      runAt: expect.any(Date),
      attempts: 0,
      maxAttempts: 3,
      timeoutMs: null,
      idempotencyKey: null,
      lockedBy: null,
      lockedUntil: null,
      lastError: null,
      errors: [],
      result: null,
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
      startedAt: null,
      finishedAt: null,
      progress: null,
      cancelRequestedAt: null,
      group: null,
    });
    // Runnable at once: run_at is the insert's own now().
    expect(job.runAt.getTime()).toBe(job.createdAt.getTime());

    const stored = await row(job.id);
    expect(stored).toMatchObject({
      queue: "default",
      type: "send_email",
      status: "queued",
      priority: 0,
      attempts: 0,
      max_attempts: 3,
      timeout_ms: null,
      idempotency_key: null,
    });
    expect(stored.payload).toEqual({ to: "a@b.com", n: [1, 2, { x: null }] });
    expect(await queue.getJob(job.id)).toEqual(job);
  });

  it("stores every option as given", async () => {
    const { job } = await queue.enqueue("report", { id: 7 }, {
      priority: 10,
      maxAttempts: 5,
      queue: "emails",
      timeoutMs: 30_000,
      idempotencyKey: "report-7",
    });
    expect(job).toMatchObject({ priority: 10, maxAttempts: 5, queue: "emails", timeoutMs: 30_000, idempotencyKey: "report-7" });
    expect(await row(job.id)).toMatchObject({
      priority: 10,
      max_attempts: 5,
      queue: "emails",
      timeout_ms: 30_000,
      idempotency_key: "report-7",
    });
  });

  it.each([-32768, -1, 32767])("stores priority %i", async (priority) => {
    const { job } = await queue.enqueue("prio", null, { priority });
    expect((await row(job.id)).priority).toBe(priority);
  });

  it("stores the extremes of maxAttempts and timeoutMs", async () => {
    const { job } = await queue.enqueue("x", 1, { maxAttempts: 1, timeoutMs: 2_147_483_647 });
    expect(await row(job.id)).toMatchObject({ max_attempts: 1, timeout_ms: 2_147_483_647 });
    const { job: most } = await queue.enqueue("x", 1, { maxAttempts: 1000, timeoutMs: 1 });
    expect(await row(most.id)).toMatchObject({ max_attempts: 1000, timeout_ms: 1 });
  });

  it("computes run_at from delayMs on the database clock", async () => {
    const { job } = await queue.enqueue("later", {}, { delayMs: 5_000 });
    const stored = await row(job.id);
    expect(Number(stored.delay_ms)).toBe(5_000);
    expect(job.runAt.getTime() - job.createdAt.getTime()).toBe(5_000);

    const { job: fine } = await queue.enqueue("later", {}, { delayMs: 1 });
    expect(Number((await row(fine.id)).delay_ms)).toBe(1);
    const { job: zero } = await queue.enqueue("later", {}, { delayMs: 0 });
    expect(Number((await row(zero.id)).delay_ms)).toBe(0);
  });

  it("stores runAt as given, in the past or the future", async () => {
    const future = new Date(Date.now() + 3_600_000);
    future.setMilliseconds(123);
    const { job } = await queue.enqueue("at", {}, { runAt: future });
    expect(job.runAt.getTime()).toBe(future.getTime());
    expect((await row(job.id)).run_at.getTime()).toBe(future.getTime());

    const past = new Date("2001-02-03T04:05:06.789Z");
    const { job: old } = await queue.enqueue("at", {}, { runAt: past });
    expect(old.runAt.toISOString()).toBe("2001-02-03T04:05:06.789Z");
  });

  it("stores any JSON payload as it went in", async () => {
    const payloads = [null, 0, -1.5, "text", "ünï©ødé \u{1F600}", true, [], {}, [1, "a", null, [{}]], { a: { b: { c: [1e300] } } }];
    for (const payload of payloads) {
      const { job } = await queue.enqueue("json", payload);
      expect(job.payload).toEqual(payload);
      expect((await row(job.id)).payload).toEqual(payload);
    }
    // Object properties that are undefined are dropped, as JSON.stringify does.
    const { job } = await queue.enqueue("json", { a: 1, gone: undefined });
    expect(job.payload).toEqual({ a: 1 });
    expect(Object.keys((await row(job.id)).payload)).toEqual(["a"]);
  });

  it("takes ids that sort by creation time", async () => {
    const first = await queue.enqueue("ordered", 1);
    await new Promise<void>((resolve) => {
      // Wait until the clock has moved to the next millisecond (a condition, not a fixed sleep).
      const start = Date.now();
      const tick = () => (Date.now() > start ? resolve() : setImmediate(tick));
      tick();
    });
    const second = await queue.enqueue("ordered", 2);
    expect(second.job.id > first.job.id).toBe(true);
  });

  it("makes ids in the database with the millisecond the clock shows, not the next one", async () => {
    // Each id is made before the clock is read in the same row, so its
    // millisecond can never be later than the clock's. Rounding (as schema 1
    // did) gave ids made in the second half of a millisecond the next one.
    const { rows } = await db.pool.query(
      `SELECT ('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint AS id_ms,
              floor(extract(epoch FROM t) * 1000)::bigint AS clock_ms
       FROM (SELECT "${db.schema}".uuid_v7() AS id, clock_timestamp() AS t FROM generate_series(1, 2000)) s`,
    );
    expect(rows.filter((r) => BigInt(r.id_ms) > BigInt(r.clock_ms))).toEqual([]);
  });
});

describe("idempotency", () => {
  it("returns the first job and created: false for the same (type, key)", async () => {
    const first = await queue.enqueue("welcome", { n: 1 }, { idempotencyKey: "user-42", priority: 1 });
    const again = await queue.enqueue("welcome", { n: 2 }, { idempotencyKey: "user-42", priority: 9, queue: "other" });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.job).toEqual(first.job);
    expect(again.job.payload).toEqual({ n: 1 });
    expect(await count("type = 'welcome'")).toBe(1);
  });

  it("returns the existing job whatever its state", async () => {
    const first = await queue.enqueue("welcome", {}, { idempotencyKey: "done-1" });
    await db.pool.query(`UPDATE "${db.schema}".jobs SET status = 'succeeded', finished_at = now() WHERE id = $1`, [first.job.id]);
    const again = await queue.enqueue("welcome", {}, { idempotencyKey: "done-1" });
    expect(again.created).toBe(false);
    expect(again.job.id).toBe(first.job.id);
    expect(again.job.status).toBe("succeeded");
  });

  it("treats the same key under another type as another job", async () => {
    const a = await queue.enqueue("type_a", {}, { idempotencyKey: "shared" });
    const b = await queue.enqueue("type_b", {}, { idempotencyKey: "shared" });
    expect(a.created).toBe(true);
    expect(b.created).toBe(true);
    expect(b.job.id).not.toBe(a.job.id);
    expect(await count("idempotency_key = 'shared'")).toBe(2);
  });

  it("never dedupes keyless jobs", async () => {
    const a = await queue.enqueue("keyless", {});
    const b = await queue.enqueue("keyless", {});
    expect(a.created && b.created).toBe(true);
    expect(await count("type = 'keyless'")).toBe(2);
  });

  it("holds when 50 clients race on one key: one row, one id, one created", async () => {
    const racers = Array.from({ length: 50 }, () => new pg.Pool({ connectionString: db.url, max: 1 }));
    const queues = racers.map((pool) => new Queue({ pool, schema: db.schema }));
    try {
      // Open every connection first, so the enqueues start together rather than behind 50 handshakes.
      await Promise.all(racers.map((pool) => pool.query("SELECT 1")));
      const results = await Promise.all(
        queues.map((q, i) => q.enqueue("race", { racer: i }, { idempotencyKey: "the-one" })),
      );
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(results.filter((r) => !r.created)).toHaveLength(49);
      const winner = results.find((r) => r.created)!;
      expect(results.every((r) => r.job.payload && (r.job.payload as any).racer === (winner.job.payload as any).racer)).toBe(true);
      expect(await count("type = 'race'")).toBe(1);
      expect((await row(winner.job.id)).payload).toEqual(winner.job.payload);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
      await Promise.all(racers.map((pool) => pool.end()));
    }
  });

  it.each(["COMMIT", "ROLLBACK"] as const)(
    "holds when 49 clients wait on an uncommitted insert of the key that ends in %s",
    async (end) => {
      const app = `race_${end.toLowerCase()}_${db.schema}`;
      const racers = Array.from({ length: 49 }, () => new pg.Pool({ connectionString: db.url, max: 1, application_name: app }));
      const queues = racers.map((pool) => new Queue({ pool, schema: db.schema }));
      const holder = await db.pool.connect();
      const key = `held-${end}`;
      try {
        await holder.query("BEGIN");
        const held = await queue.enqueue("held", { holder: true }, { idempotencyKey: key, client: holder });
        expect(held.created).toBe(true);
        const racing = Promise.all(queues.map((q, i) => q.enqueue("held", { racer: i }, { idempotencyKey: key })));
        // Every racer is now blocked on the holder's uncommitted row.
        await waitFor(async () => {
          const { rows } = await db.pool.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            [app],
          );
          return rows[0].n === 49;
        }, "49 racers blocked on the key");
        await holder.query(end);
        const results = await racing;
        const ids = new Set(results.map((r) => r.job.id));
        expect(ids.size).toBe(1);
        if (end === "COMMIT") {
          expect(results.filter((r) => r.created)).toHaveLength(0);
          expect([...ids][0]).toBe(held.job.id);
        } else {
          expect(results.filter((r) => r.created)).toHaveLength(1);
          expect([...ids][0]).not.toBe(held.job.id);
        }
        expect(await count("type = 'held' AND idempotency_key = $1", [key])).toBe(1);
      } finally {
        holder.release();
        await Promise.all(queues.map((q) => q.close()));
        await Promise.all(racers.map((pool) => pool.end()));
      }
    },
  );

  it("holds when the race runs many rounds with many keys", async () => {
    const racers = Array.from({ length: 10 }, () => new Queue({ connectionString: db.url, schema: db.schema, poolSize: 2 }));
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `round-${i}`);
      const results = await Promise.all(
        racers.flatMap((q) => keys.map((key) => q.enqueue("rounds", { key }, { idempotencyKey: key }).then((r) => ({ key, ...r })))),
      );
      for (const key of keys) {
        const mine = results.filter((r) => r.key === key);
        expect(new Set(mine.map((r) => r.job.id)).size).toBe(1);
        expect(mine.filter((r) => r.created)).toHaveLength(1);
      }
      expect(await count("type = 'rounds'")).toBe(keys.length);
    } finally {
      await Promise.all(racers.map((q) => q.close()));
    }
  });
});

describe("claim order as stored", () => {
  it("orders by priority, then run_at, then id, as the claim does", async () => {
    const type = "ordering";
    const base = Date.now() - 60_000;
    const at = (s: number) => new Date(base + s * 1000);
    const made: Record<string, string> = {};
    const add = async (name: string, options: Parameters<Queue["enqueue"]>[2]) => {
      made[name] = (await queue.enqueue(type, { name }, options)).job.id;
    };
    await add("low-early", { priority: -5, runAt: at(0) });
    await add("mid-late", { priority: 0, runAt: at(20) });
    await add("mid-early", { priority: 0, runAt: at(10) });
    await add("high-late", { priority: 10, runAt: at(30) });
    await add("high-early", { priority: 10, runAt: at(5) });
    await add("mid-tie-1", { priority: 0, runAt: at(15) });
    await add("mid-tie-2", { priority: 0, runAt: at(15) });
    const { rows } = await db.pool.query(
      `SELECT payload->>'name' AS name, id FROM "${db.schema}".jobs WHERE type = $1 ORDER BY priority DESC, run_at, id`,
      [type],
    );
    const names = rows.map((r) => r.name);
    // The tie on (priority, run_at) is broken by id, which is creation order.
    const tie = [made["mid-tie-1"]!, made["mid-tie-2"]!].sort();
    const tieNames = tie.map((id) => (id === made["mid-tie-1"] ? "mid-tie-1" : "mid-tie-2"));
    expect(names).toEqual(["high-early", "high-late", "mid-early", ...tieNames, "mid-late", "low-early"]);
  });

  it("serves the claim from a partial index in claim order", async () => {
    const { rows } = await db.pool.query(
      "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'jobs_claim_idx'",
      [db.schema],
    );
    expect(rows).toHaveLength(1);
    const def: string = rows[0].indexdef;
    expect(def).toMatch(/\(priority DESC, run_at, id\)/);
    expect(def).toMatch(/ WHERE /);
    expect(def).toMatch(/'queued'/);
    expect(def).toMatch(/'failed'/);
    const partial = await db.pool.query(
      `SELECT i.indpred IS NOT NULL AS partial FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = 'jobs_claim_idx'`,
      [db.schema],
    );
    expect(partial.rows[0].partial).toBe(true);
  });
});

describe("the job:enqueued event", () => {
  it("reports each enqueue, created or not, and a throwing listener does not break enqueue", async () => {
    const seen: Array<{ id: string; created: boolean }> = [];
    const listener = ({ job, created }: { job: { id: string }; created: boolean }) => seen.push({ id: job.id, created });
    const thrower = () => {
      throw new Error("listener bug");
    };
    queue.on("job:enqueued", listener);
    queue.on("job:enqueued", thrower);
    try {
      const a = await queue.enqueue("evented", 1, { idempotencyKey: "ev" });
      const b = await queue.enqueue("evented", 2, { idempotencyKey: "ev" });
      const many = await queue.enqueueMany([
        { type: "evented", payload: 3 },
        { type: "evented", payload: 4, options: { idempotencyKey: "ev" } },
      ]);
      expect(seen).toEqual([
        { id: a.job.id, created: true },
        { id: a.job.id, created: false },
        { id: many[0]!.job.id, created: true },
        { id: a.job.id, created: false },
      ]);
      expect(b.job.id).toBe(a.job.id);
    } finally {
      queue.off("job:enqueued", listener);
      queue.off("job:enqueued", thrower);
    }
  });
});
