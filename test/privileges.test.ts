import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grant, Queue, ValidationError, Worker } from "../src/index.js";
import { migratedSchema, waitFor, type TestSchema } from "./support/db.js";

let db: TestSchema;
const role = `djps_rt_${randomBytes(4).toString("hex")}`;
const password = randomBytes(8).toString("hex");
let runtimeUrl: string;

beforeAll(async () => {
  db = await migratedSchema("pv");
  await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  const url = new URL(db.url);
  url.username = role;
  url.password = password;
  runtimeUrl = url.toString();
});
afterAll(async () => {
  await db.drop();
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`DROP OWNED BY ${role}`).catch(() => {});
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

describe("least privilege", () => {
  it("a role without grants cannot use the queue", async () => {
    const queue = new Queue({ connectionString: runtimeUrl, schema: db.schema });
    try {
      await expect(queue.enqueue("t", {})).rejects.toThrow(/permission denied/);
    } finally {
      await queue.close();
    }
  });

  it("after grant(), the runtime role enqueues and works jobs but cannot drop, alter or truncate", async () => {
    const statements = await grant({ connectionString: db.url, schema: db.schema, role });
    expect(statements).toHaveLength(4);

    const queue = new Queue({ connectionString: runtimeUrl, schema: db.schema });
    const worker = new Worker({ t: async (p) => (p as { n: number }).n * 2 }, { connectionString: runtimeUrl, schema: db.schema });
    try {
      await worker.start();
      const { job } = await queue.enqueue("t", { n: 21 }, { idempotencyKey: "k" });
      const done = await waitFor(async () => {
        const j = await queue.getJob(job.id);
        return j?.status === "succeeded" ? j : null;
      }, "the job to succeed as the runtime role");
      expect(done.result).toBe(42);
      expect((await queue.enqueue("t", { n: 1 }, { idempotencyKey: "k" })).created).toBe(false);
      await queue.cancel((await queue.enqueue("t", { n: 2 }, { delayMs: 60_000 })).job.id);
      expect((await queue.stats()).totals.succeeded).toBe(1);
      expect((await worker.rescueExpired()).count).toBe(0);
      expect((await queue.pause("held")).paused).toBe(true);
      expect((await queue.pausedQueues()).map((q) => q.queue)).toEqual(["held"]);
      expect((await queue.resume("held")).paused).toBe(false);

      const client = new pg.Client({ connectionString: runtimeUrl });
      await client.connect();
      try {
        for (const ddl of [
          `DROP TABLE "${db.schema}".jobs`,
          `ALTER TABLE "${db.schema}".jobs ADD COLUMN x int`,
          `TRUNCATE "${db.schema}".jobs`,
          `DROP SCHEMA "${db.schema}" CASCADE`,
          `CREATE TABLE "${db.schema}".evil (x int)`,
          `DELETE FROM "${db.schema}".migrations`,
          `UPDATE "${db.schema}".schema_versions SET breaking = false`,
        ]) {
          await expect(client.query(ddl), ddl).rejects.toThrow(/must be owner|permission denied/);
        }
      } finally {
        await client.end();
      }
    } finally {
      await worker.stop();
      await queue.close();
    }
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs`);
    expect(rows[0].n).toBe(2);
  });

  it("after grant(), the runtime role enqueues from SQL with the schema's enqueue()", async () => {
    await grant({ connectionString: db.url, schema: db.schema, role });
    const client = new pg.Client({ connectionString: runtimeUrl });
    await client.connect();
    try {
      const first = await client.query(`SELECT * FROM "${db.schema}".enqueue('from_sql', '{"n": 1}', '{"idempotencyKey": "sql-1"}')`);
      const again = await client.query(`SELECT * FROM "${db.schema}".enqueue('from_sql', '{"n": 2}', '{"idempotencyKey": "sql-1"}')`);
      expect(first.rows[0].created).toBe(true);
      expect(again.rows[0]).toEqual({ id: first.rows[0].id, created: false });
    } finally {
      await client.end();
    }
  });

  it("refuses a hostile role name before connecting", async () => {
    await expect(grant({ connectionString: "postgres://x@127.0.0.1:1/x", role: 'x"; DROP TABLE jobs; --' })).rejects.toBeInstanceOf(ValidationError);
  });

  it("can print the statements instead of running them", async () => {
    const statements = await grant({ schema: "djps", role: "app_rt", dryRun: true });
    expect(statements).toEqual([
      'GRANT USAGE ON SCHEMA "djps" TO "app_rt"',
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "djps"."jobs", "djps"."queues", "djps"."schedules", "djps"."api_keys", "djps"."workers" TO "app_rt"',
      'GRANT SELECT ON "djps"."migrations", "djps"."schema_versions" TO "app_rt"',
      'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "djps" TO "app_rt"',
    ]);
  });
});
