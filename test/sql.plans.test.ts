import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jobComplete } from "../src/sql/jobComplete.js";
import { jobFail, ERROR_HISTORY_LIMIT } from "../src/sql/jobFail.js";
import { jobHeartbeat } from "../src/sql/jobHeartbeat.js";
import { jobSnooze } from "../src/sql/jobSnooze.js";
import { migratedSchema, type TestSchema } from "./support/db.js";

// The batch writes look their jobs up by id, one primary-key probe per id,
// whatever the statistics say. Two traps, both seen in benchmarks: statistics
// gathered while few jobs ran (a long-lived table), and no statistics at all (a
// fresh one). Either way the planner believed the running rows were one or two
// and joined every batch against all of them. auto_explain reports the plans
// the functions run, as notices.

const RUNNING_JOBS = 5_000;
const BATCH = 200;

let db: TestSchema;
beforeEach(async () => {
  db = await migratedSchema("plans");
});
afterEach(async () => {
  await db.drop();
});

/** Fills the table: finished history, then jobs running under worker 'w'; statistics taken before they ran, or never. */
async function table(analyze: boolean): Promise<string[]> {
  const jobs = `"${db.schema}".jobs`;
  await db.pool.query(`INSERT INTO ${jobs} (type, status, finished_at) SELECT 'noop', 'succeeded', now() FROM generate_series(1, 30000)`);
  await db.pool.query(`INSERT INTO ${jobs} (type) SELECT 'noop' FROM generate_series(1, ${RUNNING_JOBS})`);
  if (analyze) await db.pool.query(`VACUUM ANALYZE ${jobs}`);
  await db.pool.query(`UPDATE ${jobs} SET status = 'running', attempts = 1, locked_by = 'w', locked_until = now() + interval '1 hour' WHERE status = 'queued'`);
  const { rows } = await db.pool.query(`SELECT id FROM ${jobs} WHERE status = 'running' LIMIT ${BATCH}`);
  return rows.map((r) => r.id);
}

/** Runs the batch statements on `ids`, each in a rolled-back transaction, and returns the plans auto_explain saw. */
async function plansOf(ids: string[]): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(n.message ?? ""));
  const ones = ids.map(() => 1);
  const statements = {
    complete: [jobComplete(db.schema), [ids, ones, ids.map(() => null), "w"]],
    fail: [jobFail(db.schema), [ids, ones, ids.map(() => "boom"), ids.map(() => null), ids.map(() => 1000), ids.map(() => false), "w"]],
    snooze: [jobSnooze(db.schema), [ids, ones, ids.map(() => 1000), "w", "chan"]],
    heartbeat: [jobHeartbeat(db.schema), [ids, ones, "w", 30_000]],
  } as const;
  const plans: Record<string, string> = {};
  try {
    await client.query("LOAD 'auto_explain'");
    await client.query(
      "SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice; SET auto_explain.log_format = json",
    );
    for (const [name, [sql, values]] of Object.entries(statements)) {
      notices.length = 0;
      // Several runs, each rolled back: PL/pgSQL switches to a generic plan after five.
      for (let i = 0; i < 7; i++) {
        await client.query("BEGIN");
        const { rows } = await client.query({ name: sql.name, text: sql.text, values: [...values] });
        await client.query("ROLLBACK");
        expect(rows).toHaveLength(ids.length);
      }
      plans[name] = notices.filter((n) => n.includes('"Node Type": "ModifyTable"')).join("\n");
    }
  } finally {
    await client.end();
  }
  return plans;
}

function probesById(plan: string): void {
  expect(plan).toContain('"Index Name": "jobs_pkey"');
  expect(plan).not.toContain("jobs_running_idx");
  expect(plan).not.toContain('"Node Type": "Seq Scan"');
  expect(plan).not.toContain('"Node Type": "Bitmap Heap Scan"');
}

describe("batch writes probe the primary key", () => {
  for (const analyze of [true, false]) {
    it(analyze ? "with statistics from before the jobs ran" : "on a table never analysed", async () => {
      const plans = await plansOf(await table(analyze));
      for (const name of ["complete", "fail", "snooze", "heartbeat"]) {
        expect(plans[name], name).not.toBe("");
        probesById(plans[name]!);
      }
    });
  }
  it("keep the error history limit the worker knows", () => {
    expect(jobFail("djps").text).toContain(`, ${ERROR_HISTORY_LIMIT})`);
  });
});
