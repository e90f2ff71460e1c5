import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../src/index.js";
import { lockKey } from "../src/sql/lockKey.js";
import { jobClaim } from "../src/sql/jobClaim.js";
import { jobComplete, jobCompleted } from "../src/sql/jobComplete.js";
import { jobFail, ERROR_HISTORY_LIMIT } from "../src/sql/jobFail.js";
import { jobHeartbeat } from "../src/sql/jobHeartbeat.js";
import { jobRescue } from "../src/sql/jobRescue.js";
import { jobSnooze } from "../src/sql/jobSnooze.js";
import type { Statement } from "../src/db.js";
import type { Query } from "../src/sql/query.js";
import { databaseUrl, uniqueSchema } from "./support/db.js";
import { startPostgres, type TestServer } from "./support/postgres.js";

// The statements that take a list of ids look each one up by an index probe,
// whatever the statistics say, on every supported PostgreSQL, under custom and
// generic plans. The traps, both seen in production-like runs: statistics
// gathered while no job ran (a bulk load, then autovacuum's ANALYZE), and no
// statistics at all (a fresh table). With either, a planner left to itself
// believed one or two jobs were running, scanned the whole primary key on the
// outer side of a nested loop and compared every row with every id: seconds
// per batch of a thousand. auto_explain reports the plans the functions run.

const HISTORY = 30_000;
const RUNNING = 5_000;
const QUEUED = 2_000;
const BATCH = 200;
/** Queued jobs of the queue the limited claim takes from (ahead in claim order: see docs/flow-control.md on the walk). */
const LIMITED = 2 * BATCH;

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Index Cond"?: string;
  "Recheck Cond"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}

interface LoggedPlan {
  "Query Text": string;
  Plan: PlanNode;
}

function* nodes(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* nodes(child);
}

/** The servers to check: the suite's own, and a PostgreSQL 15 of this file's own (the oldest supported). */
const servers: Array<{ name: string; url: () => string; server?: TestServer }> = [
  { name: "the test server", url: databaseUrl },
  { name: "PostgreSQL 15", url: () => pg15!.url },
];
let pg15: TestServer | undefined;

beforeAll(async () => {
  pg15 = await startPostgres({ embedded: true, version: 15 });
}, 120_000);
afterAll(async () => {
  await pg15?.stop();
});

/** A migrated schema: finished history and jobs running under worker 'w', with statistics from before they ran, or none. */
async function table(url: string, analyze: boolean): Promise<{ schema: string; pool: pg.Pool; ids: string[]; version: number }> {
  const schema = uniqueSchema("plans");
  await migrate({ connectionString: url, schema });
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // pool.end() resolves before its clients have closed their sockets: the server stopping
  // (afterAll) may still end one, and an error event with no listener would be thrown.
  pool.on("error", () => {});
  const jobs = `"${schema}".jobs`;
  await pool.query(`INSERT INTO ${jobs} (type, status, finished_at) SELECT 'noop', 'succeeded', now() FROM generate_series(1, ${HISTORY})`);
  await pool.query(`INSERT INTO ${jobs} (type) SELECT 'noop' FROM generate_series(1, ${RUNNING + QUEUED})`);
  await pool.query(`INSERT INTO ${jobs} (type, queue, priority) SELECT 'noop', 'lim', 1 FROM generate_series(1, ${LIMITED})`);
  if (analyze) await pool.query(`VACUUM ANALYZE ${jobs}`);
  // Running jobs; the first BATCH of them with a lease that has passed, for the rescuer.
  await pool.query(
    `UPDATE ${jobs} SET status = 'running', attempts = 1, locked_by = 'w', started_at = now(),
       locked_until = CASE WHEN n <= ${BATCH} THEN now() - interval '1 minute' ELSE now() + interval '1 hour' END
     FROM (SELECT id AS pick, row_number() OVER (ORDER BY id) AS n FROM ${jobs} WHERE status = 'queued' AND queue = 'default' ORDER BY id LIMIT ${RUNNING}) p
     WHERE id = p.pick`,
  );
  const { rows } = await pool.query(`SELECT id FROM ${jobs} WHERE status = 'running' ORDER BY id DESC LIMIT ${BATCH}`);
  const { rows: v } = await pool.query("SELECT current_setting('server_version_num')::int / 10000 AS major");
  return { schema, pool, ids: rows.map((r) => r.id), version: v[0].major };
}

/**
 * Runs each statement several times in rolled-back transactions under the
 * given plan cache mode, and returns the plans auto_explain logged for the
 * statements inside the functions.
 */
async function plansOf(url: string, schema: string, ids: string[], mode: "force_custom_plan" | "force_generic_plan"): Promise<Record<string, LoggedPlan[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(n.message ?? ""));
  const ones = ids.map(() => 1);
  const as = <P,>(query: Query<P, unknown>, params: P): [Statement, readonly unknown[]] => [query.statement(schema), query.values(params)];
  const statements: Record<string, [Statement, readonly unknown[]]> = {
    claim: as(jobClaim, { queues: null, types: ["noop"], limit: BATCH, start: 10, workerId: "w2", leaseMs: 30_000, holdMs: 5_000 }),
    // With queue `lim` limited (in the same rolled-back transaction): its row locked, its running jobs counted, its rate log written.
    claimLimited: as(jobClaim, { queues: null, types: ["noop"], limit: BATCH, start: BATCH, workerId: "w2", leaseMs: 30_000, holdMs: 5_000 }),
    // A worker of the limited queue alone: no walk of the other queues after it.
    claimLimitedOnly: as(jobClaim, { queues: ["lim"], types: ["noop"], limit: 2 * BATCH, start: BATCH, workerId: "w2", leaseMs: 30_000, holdMs: 5_000 }),
    complete: as(jobComplete, { ids, attempts: ones, results: ids.map(() => null), workerId: "w" }),
    completed: as(jobCompleted, { ids }),
    fail: as(jobFail, {
      ids,
      attempts: ones,
      messages: ids.map(() => "boom"),
      stacks: ids.map(() => null),
      delaysMs: ids.map(() => 1000),
      permanent: ids.map(() => false),
      workerId: "w",
    }),
    snooze: as(jobSnooze, { ids, attempts: ones, delaysMs: ids.map(() => 1000), workerId: "w", channel: "chan" }),
    heartbeat: as(jobHeartbeat, { ids, attempts: ones, workerId: "w", leaseMs: 30_000 }),
    rescue: as(jobRescue, { lockKey: lockKey(`plans:${schema}`), limit: 1000, channel: "chan" }),
  };
  const limit = `INSERT INTO "${schema}".queues (name, concurrency_limit, rate_limit, rate_interval_ms) VALUES ('lim', 100000, 1000000, 3600000)`;
  const setup: Record<string, string> = { claimLimited: limit, claimLimitedOnly: limit };
  const expected: Record<string, number> = { claim: BATCH, claimLimited: BATCH, claimLimitedOnly: BATCH, completed: 0, rescue: BATCH };
  const plans: Record<string, LoggedPlan[]> = {};
  try {
    await client.query("LOAD 'auto_explain'");
    await client.query(
      `SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_nested_statements = on;
       SET auto_explain.log_level = notice; SET auto_explain.log_format = json; SET plan_cache_mode = ${mode}`,
    );
    for (const [name, [sql, values]] of Object.entries(statements)) {
      notices.length = 0;
      // Several runs: PL/pgSQL and prepared statements pick their plan mode after five.
      for (let i = 0; i < 7; i++) {
        await client.query("BEGIN");
        if (setup[name]) await client.query(setup[name]);
        const { rows } = await client.query({ name: sql.name, text: sql.text, values: [...values] });
        await client.query("ROLLBACK");
        expect(rows, name).toHaveLength(expected[name] ?? ids.length);
        if (name.startsWith("claimLimited")) expect(rows.every((r) => r.queue === "lim" && r.started_at !== null), name).toBe(true);
      }
      plans[name] = notices.map((n) => JSON.parse(n.slice(n.indexOf("{"))) as LoggedPlan);
    }
  } finally {
    await client.end();
  }
  return plans;
}

/**
 * Problems with a statement's plans: scans of jobs that are not index probes,
 * nested loops, rows read beyond the batch. A limited queue's count of its
 * running jobs reads the running jobs, through their index, and no more.
 */
function problems(logged: LoggedPlan[]): string[] {
  const found: string[] = [];
  for (const { "Query Text": query, Plan: plan } of logged) {
    const byIds = /ANY\s*\(\s*(\$1|p_ids|v_ids)/.test(query);
    const countsRunning = /count\(\*\)\s+FROM jobs\s+WHERE status = 'running'/.test(query);
    const allowed = countsRunning ? RUNNING : BATCH;
    for (const node of nodes(plan)) {
      const what = `${node["Node Type"]}${node["Index Name"] ? ` using ${node["Index Name"]}` : ""} in: ${query.replace(/\s+/g, " ").slice(0, 120)}`;
      if (node["Node Type"] === "Nested Loop" || node["Node Type"] === "Merge Join") found.push(`a join that may compare every row with every id: ${what}`);
      if (node["Relation Name"] !== "jobs" || !node["Node Type"].endsWith("Scan")) continue;
      // A bitmap heap scan fetches what its bitmap index scan (checked on its own) found.
      const condition = node["Node Type"] === "Bitmap Heap Scan" ? node["Recheck Cond"] : node["Index Cond"];
      if (node["Node Type"] === "Seq Scan") found.push(`a scan of the table: ${what}`);
      if (countsRunning && node["Index Name"] !== "jobs_running_idx") found.push(`a count of running jobs not through jobs_running_idx: ${what}`);
      else if (byIds && !/= ANY/.test(condition ?? "")) found.push(`a scan of jobs without the ids as its index condition: ${what}`);
      const read = (node["Actual Rows"] ?? 0) * (node["Actual Loops"] ?? 1);
      if (read > allowed) found.push(`${read} rows of jobs read for a batch of ${BATCH}: ${what}`);
    }
  }
  return found;
}

describe("statements over lists of ids probe an index per id", () => {
  for (const server of servers) {
    for (const analyze of [true, false]) {
      for (const mode of ["force_custom_plan", "force_generic_plan"] as const) {
        it(`on ${server.name}, ${analyze ? "with statistics from before the jobs ran" : "on a table never analysed"}, ${mode}`, async () => {
          const { schema, pool, ids, version } = await table(server.url(), analyze);
          try {
            if (server.name === "PostgreSQL 15") expect(version).toBe(15);
            const plans = await plansOf(server.url(), schema, ids, mode);
            // The limited claim ran the count of running jobs and the ordered walk of the limited queue.
            const limitedQueries = plans.claimLimited!.map((p) => p["Query Text"]).join("\n");
            expect(limitedQueries).toMatch(/count\(\*\)\s+FROM jobs\s+WHERE status = 'running'/);
            expect(limitedQueries).toMatch(/queue = p_queue/);
            expect(limitedQueries).toMatch(/v_ids := v_ids \|\| ARRAY/);
            expect(plans.claimLimitedOnly!.map((p) => p["Query Text"]).join("\n")).not.toMatch(/v_ids := v_ids \|\| ARRAY/);
            for (const [name, logged] of Object.entries(plans)) {
              expect(logged.length, `${name}: plans logged`).toBeGreaterThan(0);
              expect(problems(logged), name).toEqual([]);
            }
          } finally {
            await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
            await pool.end();
          }
        });
      }
    }
  }
  it("keep the error history limit the worker knows", () => {
    expect(jobFail.statement("djps").text).toContain(`, ${ERROR_HISTORY_LIMIT})`);
  });
});
