import pg from "pg";
import { describe, expect, it } from "vitest";
import { useTestBed } from "./support/bed.js";
import { waitFor } from "./support/db.js";
import { nextEvent } from "./support/worker.js";

// The schema's enqueue(type, payload, options) function: jobs from SQL, with
// the library's option names, rules and idempotency, and the same wake-up.

const bed = useTestBed("sqlq", { schemaPerTest: true });

async function enqueue(type: string | null, payload: unknown, options?: unknown): Promise<{ id: string; created: boolean }> {
  const { rows } = await bed.db.pool.query(`SELECT * FROM "${bed.db.schema}".enqueue($1, $2::jsonb, $3::jsonb)`, [
    type,
    payload === undefined ? null : JSON.stringify(payload),
    options === undefined ? "{}" : JSON.stringify(options),
  ]);
  return rows[0];
}

describe("enqueue() in SQL", () => {
  it("adds a job with the library's defaults, which Queue reads back", async () => {
    const { id, created } = await enqueue("send_email", { to: "a@example.com" });
    expect(created).toBe(true);
    expect(await bed.queue.getJob(id)).toMatchObject({
      id,
      type: "send_email",
      payload: { to: "a@example.com" },
      queue: "default",
      priority: 0,
      maxAttempts: 3,
      timeoutMs: null,
      idempotencyKey: null,
      status: "queued",
      attempts: 0,
    });
    // Defaults for the payload too: SQL NULL and no payload are JSON null.
    const { rows } = await bed.db.pool.query(`SELECT * FROM "${bed.db.schema}".enqueue('bare')`);
    expect((await bed.queue.getJob(rows[0].id))!.payload).toBeNull();
  });

  it("takes every option spelled as in the library", async () => {
    const later = new Date(Date.now() + 3_600_000);
    const a = await enqueue("t", 1, { queue: "emails", priority: 7, maxAttempts: 9, timeoutMs: 5000, idempotencyKey: "k-1", runAt: later.toISOString() });
    expect(await bed.queue.getJob(a.id)).toMatchObject({ queue: "emails", priority: 7, maxAttempts: 9, timeoutMs: 5000, idempotencyKey: "k-1", runAt: later });
    const { rows } = await bed.db.pool.query(`SELECT now() AS now`);
    const b = await enqueue("t", 2, { delayMs: 60_000 });
    const runAt = (await bed.queue.getJob(b.id))!.runAt.getTime();
    expect(runAt - (rows[0].now as Date).getTime()).toBeGreaterThanOrEqual(60_000);
  });

  it("returns the first job for the same type and idempotency key, created false", async () => {
    const first = await enqueue("charge", { cents: 100 }, { idempotencyKey: "order-9" });
    const again = await enqueue("charge", { cents: 999 }, { idempotencyKey: "order-9" });
    expect(again).toEqual({ id: first.id, created: false });
    expect((await bed.queue.getJob(first.id))!.payload).toEqual({ cents: 100 });
    // The key is per type, and the library sees the same rule.
    expect((await enqueue("refund", {}, { idempotencyKey: "order-9" })).created).toBe(true);
    expect((await bed.queue.enqueue("charge", { cents: 1 }, { idempotencyKey: "order-9" })).job.id).toBe(first.id);
  });

  it("refuses bad input with SQLSTATE 22023 and a message naming the field, adding nothing", async () => {
    const cases: Array<[string | null, unknown, unknown, RegExp]> = [
      ["bad type!", null, {}, /^Expected `type` to be a name of 1 to 128 characters/],
      [null, null, {}, /^Expected `type` to be a name/],
      ["t", null, { priority: 1.5 }, /^Expected `options\.priority` to be an integer from -32768 to 32767, got 1\.5$/],
      ["t", null, { priority: "high" }, /^Expected `options\.priority` to be an integer from -32768 to 32767, got "high"$/],
      ["t", null, { maxAttempts: 0 }, /^Expected `options\.maxAttempts` to be an integer from 1 to 1000, got 0$/],
      ["t", null, { delayMs: -1 }, /^Expected `options\.delayMs` to be an integer from 0 to 315360000000/],
      ["t", null, { timeoutMs: 0 }, /^Expected `options\.timeoutMs`/],
      ["t", null, { queue: "a b" }, /^Expected `options\.queue` to be a name/],
      ["t", null, { queue: 5 }, /^Expected `options\.queue` to be a name/],
      ["t", null, { runAt: "tomorrow-ish" }, /^Expected `options\.runAt` to be a timestamp/],
      ["t", null, { runAt: 5 }, /^Expected `options\.runAt` to be a timestamp/],
      ["t", null, { runAt: "2030-01-01T00:00:00Z", delayMs: 5 }, /^Expected `options\.runAt` to be given only when `delayMs` is not/],
      ["t", null, { idempotencyKey: "" }, /^Expected `options\.idempotencyKey` to be a string of 1 to 512 characters/],
      ["t", null, { idempotencyKey: "x".repeat(513) }, /^Expected `options\.idempotencyKey`/],
      ["t", null, { retries: 3 }, /^Expected `options` to hold only .*, got `retries`$/],
      ["t", null, [1], /^Expected `options` to be a JSON object, got array$/],
      ["t", "x".repeat(1_048_577), {}, /^Expected `payload` to be at most 1048576 bytes of JSON/],
    ];
    for (const [type, payload, options, message] of cases) {
      const error = await enqueue(type, payload, options).then(
        () => undefined,
        (e: pg.DatabaseError) => e,
      );
      expect(error, JSON.stringify(options)).toBeDefined();
      expect(error!.code, JSON.stringify(options)).toBe("22023");
      expect(error!.message, JSON.stringify(options)).toMatch(message);
    }
    const { rows } = await bed.db.pool.query(`SELECT count(*)::int AS n FROM "${bed.db.schema}".jobs`);
    expect(rows[0].n).toBe(0);
  });

  it("wakes the queue's workers on commit, only for a job that can run now", async () => {
    const listener = new pg.Client({ connectionString: bed.db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on("notification", (n) => heard.push(n.payload ?? ""));
    try {
      await listener.query(`LISTEN "djps:${bed.db.schema}:jobs"`);
      const client = await bed.db.pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(`SELECT * FROM "${bed.db.schema}".enqueue('t', '1', '{"queue": "later", "delayMs": 60000}')`);
        await client.query(`SELECT * FROM "${bed.db.schema}".enqueue('t', '2', '{"queue": "now"}')`);
        await client.query(`SELECT * FROM "${bed.db.schema}".enqueue('t', '3', '{"queue": "now"}')`);
        await client.query("COMMIT");
      } finally {
        client.release();
      }
      await waitFor(() => heard.length > 0, "a notification");
      // A marker notification after them: everything before it has arrived.
      await bed.db.pool.query(`SELECT pg_notify($1, 'marker')`, [`djps:${bed.db.schema}:jobs`]);
      await waitFor(() => heard.includes("marker"), "the marker");
      expect(heard).toEqual(["now", "marker"]);
    } finally {
      await listener.end();
    }
  });

  it("from a trigger: a row written by the app becomes a job, in the same transaction, which a worker runs", async () => {
    const s = `"${bed.db.schema}"`;
    await bed.db.pool.query(`CREATE TABLE ${s}.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL)`);
    await bed.db.pool.query(`
      CREATE FUNCTION ${s}.order_created() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM ${s}.enqueue('order_created', jsonb_build_object('orderId', NEW.id, 'email', NEW.email),
                             jsonb_build_object('queue', 'orders', 'idempotencyKey', 'order:' || NEW.id));
        RETURN NEW;
      END $$`);
    await bed.db.pool.query(`CREATE TRIGGER orders_enqueue AFTER INSERT ON ${s}.orders FOR EACH ROW EXECUTE FUNCTION ${s}.order_created()`);

    // Rolled back: no order, no job.
    const client = await bed.db.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`INSERT INTO ${s}.orders (email) VALUES ('gone@example.com')`);
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    const seen: unknown[] = [];
    const worker = bed.worker({ order_created: async (payload) => void seen.push(payload) }, { queues: ["orders"], pollIntervalMs: 60_000 });
    await worker.start();
    const succeeded = nextEvent(worker, "job:succeeded");
    const { rows } = await bed.db.pool.query(`INSERT INTO ${s}.orders (email) VALUES ('kept@example.com') RETURNING id`);
    // Woken by the trigger's NOTIFY (the poll is a minute away).
    const { job } = await succeeded;
    expect(job.idempotencyKey).toBe(`order:${rows[0].id}`);
    expect(seen).toEqual([{ orderId: Number(rows[0].id), email: "kept@example.com" }]);
    const { rows: all } = await bed.db.pool.query(`SELECT count(*)::int AS n FROM ${s}.jobs`);
    expect(all[0].n).toBe(1);
  });
});
