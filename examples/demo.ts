/**
 * The djps demo: a real PostgreSQL (yours via DATABASE_URL, or an embedded
 * one started for the run), a few thousand jobs of mixed priorities, some of
 * which fail to show retries and the dead-letter state, and several workers
 * draining them with a live progress line.
 *
 *   npm run demo                      # embedded PostgreSQL
 *   DATABASE_URL=postgres://... npm run demo
 *   npm run demo -- --jobs 20000 --workers 4 --concurrency 20
 *   npm run demo -- --serve           # the HTTP API on 127.0.0.1:8080, with a worker, until Ctrl-C
 *   npm run demo -- --dashboard       # the dashboard on 127.0.0.1:8080 over a steady flow of demo jobs, until Ctrl-C
 */
import { parseArgs } from "node:util";
import { migrate, Queue, Worker, PermanentJobError, type EnqueueItem } from "../src/index.js";
import { startPostgres } from "../test/support/postgres.js";

const { values: args } = parseArgs({
  options: {
    jobs: { type: "string", default: "5000" },
    workers: { type: "string", default: "3" },
    concurrency: { type: "string", default: "10" },
    serve: { type: "boolean", default: false },
    dashboard: { type: "boolean", default: false },
    port: { type: "string", default: "8080" },
  },
});
const JOBS = Number(args.jobs);
const WORKERS = Number(args.workers);
const CONCURRENCY = Number(args.concurrency);
const SCHEMA = "djps_demo";

const server = await startPostgres();
console.log(`PostgreSQL: ${server.source === "env" ? "DATABASE_URL" : server.source} (${redact(server.url)})`);
const connectionString = server.url;

const { applied } = await migrate({ connectionString, schema: SCHEMA });
console.log(applied.length ? `Migrated schema ${SCHEMA}: ${applied.join(", ")}` : `Schema ${SCHEMA} is up to date`);

if (args.serve) {
  await serveDemo();
  process.exit(0);
}
if (args.dashboard) {
  await dashboardDemo();
  process.exit(0);
}

const queue = new Queue({ connectionString, schema: SCHEMA });
// A demo run starts from a clean table so its summary describes this run only.
await queue.pool.query(`TRUNCATE ${SCHEMA}.jobs`);

// Three kinds of job: most succeed, some fail now and then (and are retried),
// a few always fail (and end up dead), and one in a hundred is invalid for good.
const items: EnqueueItem[] = [];
for (let i = 0; i < JOBS; i++) {
  const roll = i % 100;
  const type = roll < 80 ? "resize_image" : roll < 95 ? "send_email" : roll < 99 ? "charge_card" : "sync_crm";
  items.push({
    type,
    payload: { n: i },
    options: { priority: roll < 10 ? 10 : 0, maxAttempts: 3, idempotencyKey: `demo-${i}` },
  });
}
const enqueueStart = performance.now();
for (let i = 0; i < items.length; i += 1000) await queue.enqueueMany(items.slice(i, i + 1000));
const enqueueMs = performance.now() - enqueueStart;
console.log(`Enqueued ${JOBS} jobs in ${enqueueMs.toFixed(0)} ms (${rate(JOBS, enqueueMs)} jobs/s, batches of 1000)`);

const counters = { started: 0, succeeded: 0, retried: 0, dead: 0 };
const handlers = {
  resize_image: async () => ({ ok: true }),
  send_email: async (_payload: unknown, ctx: { attempt: number }) => {
    // Fails on the first attempt one time in three, then succeeds on retry.
    if (ctx.attempt === 1 && Math.random() < 1 / 3) throw new Error("SMTP 421: try again later");
    return { messageId: `m-${Math.random().toString(36).slice(2, 10)}` };
  },
  charge_card: async () => {
    throw new Error("card declined (demo: this type always fails)");
  },
  sync_crm: async () => {
    throw new PermanentJobError("CRM account closed (demo: no retry helps)");
  },
};

const workers = Array.from(
  { length: WORKERS },
  () =>
    new Worker(handlers, {
      connectionString,
      schema: SCHEMA,
      concurrency: CONCURRENCY,
      backoff: { baseMs: 50, maxMs: 500 },
    }),
);
for (const worker of workers) {
  worker.on("job:started", () => counters.started++);
  worker.on("job:succeeded", () => counters.succeeded++);
  worker.on("job:failed", () => counters.retried++);
  worker.on("job:dead", () => counters.dead++);
}

const start = performance.now();
await Promise.all(workers.map((w) => w.start()));
console.log(`Started ${WORKERS} workers × ${CONCURRENCY} slots`);

const tty = process.stdout.isTTY;
let lastPrint = 0;
for (;;) {
  const finished = counters.succeeded + counters.dead;
  const now = performance.now();
  if (tty || now - lastPrint > 1000) {
    const line = `  ${finished}/${JOBS} finished · ${counters.succeeded} succeeded · ${counters.retried} retries · ${counters.dead} dead · ${rate(finished, now - start)} jobs/s`;
    if (tty) process.stdout.write(`\r${line}   `);
    else console.log(line);
    lastPrint = now;
  }
  if (finished >= JOBS) break;
  await new Promise((r) => setTimeout(r, 100));
}
const elapsed = performance.now() - start;
if (tty) process.stdout.write("\n");

await Promise.all(workers.map((w) => w.stop()));
const stats = await queue.stats();
console.log(`\nProcessed ${JOBS} jobs in ${(elapsed / 1000).toFixed(2)} s: ${rate(JOBS, elapsed)} jobs/s with ${WORKERS * CONCURRENCY} slots`);
console.log("Final states:");
for (const [status, count] of Object.entries(stats.totals)) if (count > 0) console.log(`  ${status.padEnd(10)} ${count}`);
const [dead] = (await queue.listJobs({ status: "dead", limit: 1 })).jobs;
if (dead) console.log(`A dead job (${dead.type}, after ${dead.attempts} attempt${dead.attempts === 1 ? "" : "s"}): ${dead.lastError}`);

await queue.close();
await server.stop();

/**
 * `--serve`: the HTTP API (`djps serve`'s server) on this database, a key to
 * call it with, and one worker that runs whatever is enqueued, until Ctrl-C.
 */
async function serveDemo(): Promise<void> {
  const { createKey, serve } = await import("../src/http/index.js");
  const keys = new Queue({ connectionString, schema: SCHEMA, poolSize: 1 });
  const { key } = await createKey(keys, { name: "demo" });
  await keys.close();
  const serving = await serve({ connectionString, schema: SCHEMA, port: Number(args.port) });
  const worker = new Worker(
    { send_email: async (payload: unknown) => ({ sent: payload }) },
    { connectionString, schema: SCHEMA, concurrency: 5 },
  );
  await worker.start();
  console.log(`HTTP API on ${serving.url} (a worker runs send_email jobs). A key for it:\n\n  export DJPS_KEY=${key}\n`);
  console.log(`Try:\n  curl -sS ${serving.url}/health`);
  console.log(`  curl -sS -H "Authorization: Bearer $DJPS_KEY" -H "Content-Type: application/json" -d '{"type":"send_email","payload":{"to":"a@example.com"}}' ${serving.url}/jobs`);
  console.log(`  curl -sS -H "Authorization: Bearer $DJPS_KEY" ${serving.url}/stats`);
  console.log(`  DJPS_URL=${serving.url} DJPS_KEY=$DJPS_KEY examples/http/curl.sh\n\nCtrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await Promise.all([serving.close(), worker.stop()]);
  await server.stop();
}

/**
 * `--dashboard`: the server of `djps dashboard` on this database, a key to
 * sign in with, and the demo's kinds of job flowing through two workers (a
 * batch at the start, then a few every second, some failing and some dying),
 * plus a schedule, until Ctrl-C.
 */
async function dashboardDemo(): Promise<void> {
  // The page's script and style are served from their build (dist/dashboard/): build them on a fresh clone.
  const { buildDashboardIfStale } = await import("../test/support/dashboard-build.js");
  await buildDashboardIfStale();
  const { createKey, serve } = await import("../src/http/index.js");
  const queue = new Queue({ connectionString, schema: SCHEMA });
  const { key } = await createKey(queue, { name: "demo dashboard" });
  const { key: readOnly } = await createKey(queue, { name: "demo dashboard (read-only)", readOnly: true });
  await queue.schedule("nightly-report", "0 3 * * *", "build_report", { scope: "all" }, { timeZone: "Europe/Berlin", queue: "reports" });
  await queue.schedule("heartbeat", "* * * * *", "resize_image", { n: -1 }, { queue: "images" });
  const kinds = [
    { type: "resize_image", queue: "images" },
    { type: "send_email", queue: "emails" },
    { type: "charge_card", queue: "payments" },
    { type: "sync_crm", queue: "crm" },
  ];
  let n = 0;
  const batch = (size: number): EnqueueItem[] =>
    Array.from({ length: size }, () => {
      const roll = n % 100;
      const kind = kinds[roll < 80 ? 0 : roll < 95 ? 1 : roll < 99 ? 2 : 3]!;
      return { type: kind.type, payload: { n: n++ }, options: { queue: kind.queue, maxAttempts: 3, idempotencyKey: `dash-${Date.now()}-${n}` } };
    });
  await queue.enqueueMany(batch(500));
  const slow = async () => new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400));
  const handlers = {
    resize_image: async () => (await slow(), { ok: true }),
    send_email: async (_payload: unknown, ctx: { attempt: number }) => {
      await slow();
      if (ctx.attempt === 1 && Math.random() < 1 / 3) throw new Error("SMTP 421: try again later");
      return { messageId: `m-${Math.random().toString(36).slice(2, 10)}` };
    },
    charge_card: async () => {
      await slow();
      throw new Error("card declined (demo: this type always fails)");
    },
    sync_crm: async () => {
      throw new PermanentJobError("CRM account closed (demo: no retry helps)");
    },
    build_report: async () => ({ rows: 42 }),
  };
  const workers = [1, 2].map(() => new Worker(handlers, { connectionString, schema: SCHEMA, concurrency: 5, backoff: { baseMs: 2_000, maxMs: 20_000 } }));
  await Promise.all(workers.map((w) => w.start()));
  const flow = setInterval(() => void queue.enqueueMany(batch(1 + Math.floor(Math.random() * 8))).catch(() => {}), 1000);
  const serving = await serve({ connectionString, schema: SCHEMA, port: Number(args.port) });
  console.log(`Dashboard on ${serving.url}/ (two workers run a steady flow of demo jobs).\n`);
  console.log(`Sign in with this key:\n\n  ${key}\n\nor, for a read-only view:\n\n  ${readOnly}\n`);
  // An embedded server is this run's own: its URL is shown whole, so the command can be copied.
  const shown = server.source === "env" ? redact(connectionString) : connectionString;
  console.log(`The same server from the command line (after npm run build): DATABASE_URL=${shown} node dist/cli.js dashboard --schema ${SCHEMA}`);
  console.log(`(in an app that installed djps: npx djps dashboard)\n\nCtrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  clearInterval(flow);
  await Promise.all([serving.close(), ...workers.map((w) => w.stop())]);
  await queue.close();
  await server.stop();
}

function rate(count: number, ms: number): string {
  return ms > 0 ? Math.round((count * 1000) / ms).toLocaleString("en-US") : "-";
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}
