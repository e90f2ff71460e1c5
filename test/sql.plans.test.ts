import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Statement } from "../src/db.js";
import { jobComplete } from "../src/sql/jobComplete.js";
import { jobFail } from "../src/sql/jobFail.js";
import { jobHeartbeat } from "../src/sql/jobHeartbeat.js";
import { jobSnooze } from "../src/sql/jobSnooze.js";
import { migratedSchema, type TestSchema } from "./support/db.js";

// The batch statements look their jobs up by id, one primary-key probe per id,
// whatever the statistics say. The trap: statistics gathered while few jobs
// ran, then many running. A plan that scans jobs_running_idx (believing it
// holds a row or two) joins every batch against every running job.

const RUNNING_JOBS = 5_000;
const BATCH = 200;

let db: TestSchema;
let ids: string[];
beforeAll(async () => {
  db = await migratedSchema("plans");
  const jobs = `"${db.schema}".jobs`;
  await db.pool.query(`INSERT INTO ${jobs} (type, status, finished_at) SELECT 'noop', 'succeeded', now() FROM generate_series(1, 30000)`);
  await db.pool.query(`INSERT INTO ${jobs} (type) SELECT 'noop' FROM generate_series(1, ${RUNNING_JOBS})`);
  await db.pool.query(`VACUUM ANALYZE ${jobs}`);
  await db.pool.query(
    `UPDATE ${jobs} SET status = 'running', attempts = 1, locked_by = 'w', locked_until = now() + interval '1 hour' WHERE status = 'queued'`,
  );
  const { rows } = await db.pool.query(`SELECT id FROM ${jobs} WHERE status = 'running' LIMIT ${BATCH}`);
  ids = rows.map((r) => r.id);
});
afterAll(async () => {
  await db.drop();
});

const lit = (values: unknown[]) => `'{${values.join(",")}}'`;

/** EXPLAIN ANALYZE of `sql` with `args` (SQL literals), as a custom and as a generic plan, inside a rolled-back transaction. */
async function plans(sql: Statement, types: string[], args: string[]): Promise<string[]> {
  const client = await db.pool.connect();
  const out: string[] = [];
  try {
    await client.query(`PREPARE s(${types.join(", ")}) AS ${sql.text}`);
    for (const mode of ["force_custom_plan", "force_generic_plan"]) {
      await client.query(`BEGIN; SET LOCAL plan_cache_mode = ${mode}`);
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE s(${args.join(", ")})`);
      await client.query("ROLLBACK");
      out.push(JSON.stringify(rows[0]["QUERY PLAN"]));
    }
  } finally {
    await client.query("DEALLOCATE ALL");
    client.release();
  }
  return out;
}

function probesById(plan: string): void {
  expect(plan).toContain('"Index Name":"jobs_pkey"');
  expect(plan).not.toContain("jobs_running_idx");
  expect(plan).not.toContain('"Node Type":"Seq Scan"');
}

describe("batch statements on a table whose statistics predate the running jobs", () => {
  const ones = () => lit(ids.map(() => 1));
  it("complete probes by id", async () => {
    for (const plan of await plans(jobComplete(db.schema), ["uuid[]", "int[]", "text[]", "text"], [lit(ids), ones(), lit(ids.map(() => "NULL")), "'w'"])) {
      probesById(plan);
      expect(plan).toContain(`"Actual Rows":${BATCH}`);
    }
  });

  it("fail probes by id", async () => {
    const args = [lit(ids), ones(), lit(ids.map(() => "boom")), lit(ids.map(() => "NULL")), lit(ids.map(() => 1000)), lit(ids.map(() => "false")), "'w'"];
    for (const plan of await plans(jobFail(db.schema), ["uuid[]", "int[]", "text[]", "text[]", "float8[]", "bool[]", "text"], args)) probesById(plan);
  });

  it("snooze probes by id", async () => {
    const args = [lit(ids), ones(), lit(ids.map(() => 1000)), "'w'", "'chan'"];
    for (const plan of await plans(jobSnooze(db.schema), ["uuid[]", "int[]", "float8[]", "text", "text"], args)) probesById(plan);
  });

  it("heartbeat probes by id", async () => {
    for (const plan of await plans(jobHeartbeat(db.schema), ["uuid[]", "int[]", "text", "float8"], [lit(ids), ones(), "'w'", "30000"])) probesById(plan);
  });
});
