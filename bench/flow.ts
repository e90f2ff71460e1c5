/**
 * Flow control: what limits and groups cost a drain, on the build of this
 * working tree (`npm run build` first), against an embedded PostgreSQL of
 * each version (or DATABASE_URL).
 *
 *   npx tsx bench/flow.ts [--jobs=30000] [--reps=3] [--concurrency=10] [--pg=18,15]
 *                         [--scenarios=unlimited,limit-50,...] [--no-wait]
 *
 * Scenarios, each a drain of --jobs no-op jobs by one in-process worker
 * serving only that queue, interleaved across repetitions:
 *   unlimited        no limit, no group (the plain claim)
 *   limit-50         setLimits({ concurrency: 50 }), worker concurrency 100
 *   groups-1000      1,000 groups with group concurrency 1 (serial), jobs interleaved across groups
 *   groups-fair      1,000 groups, no group limit (fairness only)
 * and, once per server, the wait of a new group's first job behind one
 * group of 100,000 queued jobs (no group limit, worker concurrency 10).
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { startServer, type BenchServer } from "./server.js";
import { median } from "./stats.js";

const { Queue, Worker, migrate }: typeof import("../src/index.js") = await import(new URL("../dist/index.js", import.meta.url).href);

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "30000" },
    reps: { type: "string", default: "3" },
    concurrency: { type: "string", default: "10" },
    pg: { type: "string", default: "18,15" },
    scenarios: { type: "string" },
    "no-wait": { type: "boolean", default: false },
  },
});
const JOBS = Number(values.jobs);
const REPS = Number(values.reps);
const CONCURRENCY = Number(values.concurrency);

interface Scenario {
  name: string;
  concurrency: number;
  setup(queue: InstanceType<typeof Queue>): Promise<void>;
  group(i: number): string | undefined;
}

const allScenarios: Scenario[] = [
  { name: "unlimited", concurrency: CONCURRENCY, setup: async () => {}, group: () => undefined },
  { name: "limit-50 (concurrency limit 50)", concurrency: 100, setup: (q) => q.setLimits("bench", { concurrency: 50 }).then(() => {}), group: () => undefined },
  { name: "groups-serial (1,000 groups, limit 1)", concurrency: CONCURRENCY, setup: (q) => q.setLimits("bench", { group: { concurrency: 1 } }).then(() => {}), group: (i) => `g${i % 1000}` },
  { name: "groups-fair (1,000 groups, no limit)", concurrency: CONCURRENCY, setup: async () => {}, group: (i) => `g${i % 1000}` },
];
const scenarios = values.scenarios === undefined ? allScenarios : allScenarios.filter((s) => values.scenarios!.split(",").includes(s.name.split(" ")[0]!));

async function fresh(url: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
  await migrate({ connectionString: url, schema });
}

/** Jobs per second for one drain. */
async function drain(url: string, scenario: Scenario): Promise<number> {
  const schema = "flow_bench";
  await fresh(url, schema);
  const queue = new Queue({ connectionString: url, schema });
  await scenario.setup(queue);
  for (let start = 0; start < JOBS; start += 5000) {
    const n = Math.min(5000, JOBS - start);
    await queue.enqueueMany(
      Array.from({ length: n }, (_, k) => {
        const group = scenario.group(start + k);
        return { type: "noop", payload: null, options: group === undefined ? { queue: "bench" } : { queue: "bench", group } };
      }),
    );
  }
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((r) => (finished = r));
  const worker = new Worker(
    {
      noop: async () => {
        if (++done === JOBS) finished();
      },
    },
    { connectionString: url, schema, concurrency: scenario.concurrency, queues: ["bench"] },
  );
  const t0 = performance.now();
  await worker.start();
  await all;
  const seconds = (performance.now() - t0) / 1000;
  await worker.stop();
  await queue.close();
  return JOBS / seconds;
}

/** Milliseconds from a new group's enqueue to its job's start, behind one group of `backlog` queued jobs. */
async function newGroupWait(url: string, backlog: number, samples: number): Promise<number[]> {
  const schema = "flow_bench";
  await fresh(url, schema);
  const queue = new Queue({ connectionString: url, schema });
  for (let start = 0; start < backlog; start += 10_000) {
    await queue.enqueueMany(Array.from({ length: Math.min(10_000, backlog - start) }, () => ({ type: "slow", payload: null, options: { queue: "bench", group: "big" } })));
  }
  const started = new Map<string, number>();
  const worker = new Worker(
    {
      slow: () => new Promise<void>((r) => setTimeout(r, 5)),
      probe: async (_p, ctx) => void started.set(ctx.job.id, performance.now()),
    },
    { connectionString: url, schema, concurrency: CONCURRENCY, queues: ["bench"] },
  );
  await worker.start();
  const waits: number[] = [];
  for (let i = 0; i < samples; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const { job } = await queue.enqueue("probe", null, { queue: "bench", group: `new-${i}` });
    while (!started.has(job.id)) await new Promise((r) => setTimeout(r, 1));
    waits.push(started.get(job.id)! - t0);
  }
  await worker.stop({ timeoutMs: 1000 });
  await queue.close();
  return waits;
}

const versions = values.pg.split(",").map((v) => Number(v) as 15 | 18);
for (const version of versions) {
  let server: BenchServer | undefined;
  const url = process.env.DATABASE_URL ?? (server = await startServer(version)).url;
  console.log(`\nPostgreSQL ${version}: ${JOBS} jobs per drain, ${REPS} interleaved repetitions`);
  const results = new Map<string, number[]>(scenarios.map((s) => [s.name, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const scenario of scenarios) results.get(scenario.name)!.push(await drain(url, scenario));
  }
  for (const scenario of scenarios) {
    const r = results.get(scenario.name)!;
    console.log(
      `${scenario.name.padEnd(40)} c${String(scenario.concurrency).padEnd(4)} median ${Math.round(median(r))} jobs/s (min ${Math.round(Math.min(...r))}, max ${Math.round(Math.max(...r))})`,
    );
  }
  if (values["no-wait"]) {
    await server?.stop();
    continue;
  }
  const waits = await newGroupWait(url, 100_000, 10);
  console.log(
    `new group's first job behind a group of 100,000: median ${median(waits).toFixed(1)} ms, max ${Math.max(...waits).toFixed(1)} ms (${waits.length} samples)`,
  );
  await server?.stop();
  if (process.env.DATABASE_URL) break;
}
