/**
 * `djps grant`, run from source in a child process (the built CLI is tested
 * in cli.test.ts): the runtime role it sets up can work jobs and nothing more.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "../src/index.js";
import { runCli as djps } from "./support/cli.js";
import { migratedSchema, type TestSchema } from "./support/db.js";

let db: TestSchema;
const role = `djps_cli_${randomBytes(4).toString("hex")}`;
beforeAll(async () => {
  db = await migratedSchema("cg");
  await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
});
afterAll(async () => {
  await db.drop();
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`DROP OWNED BY ${role}`).catch(() => {});
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

describe("djps grant", () => {
  it("prints the statements with --dry-run, without a database", async () => {
    const run = await djps(["grant", "--role", "app_rt", "--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toEqual([
      'GRANT USAGE ON SCHEMA "djps" TO "app_rt";',
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "djps"."jobs", "djps"."queues", "djps"."schedules", "djps"."api_keys", "djps"."workers" TO "app_rt";',
      'GRANT SELECT ON "djps"."migrations", "djps"."schema_versions" TO "app_rt";',
      'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "djps" TO "app_rt";',
    ]);
  });

  it("grants a runtime role enough to enqueue, and no DDL", async () => {
    const run = await djps(["grant", "--role", role, "--schema", db.schema, "--database-url", db.url]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const url = new URL(db.url);
    url.username = role;
    url.password = "pw";
    const queue = new Queue({ connectionString: url.toString(), schema: db.schema });
    try {
      expect((await queue.enqueue("t", { ok: true })).created).toBe(true);
      await expect(queue.pool.query(`DROP TABLE "${db.schema}".jobs`)).rejects.toThrow(/must be owner/);
    } finally {
      await queue.close();
    }
  });

  it("needs --role, and names the flag in errors", async () => {
    const missing = await djps(["grant", "--dry-run"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^djps: grant: --role is required\n/);
    const hostile = await djps(["grant", "--role", 'x"; DROP TABLE jobs; --', "--dry-run"]);
    expect(hostile.code).toBe(1);
    expect(hostile.stderr).toMatch(/^djps: Expected `--role` to be a role name/);
    const noDb = await djps(["grant", "--role", "app_rt"]);
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toMatch(/^djps: No database/);
  });
});
