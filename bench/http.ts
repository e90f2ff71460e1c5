/**
 * The HTTP API's throughput against the library called directly, on one
 * machine: `POST /jobs` and `GET /jobs/:id` through `createHandler` on a
 * `node:http` server, loaded with autocannon, against `queue.enqueue()` and
 * `queue.getJob()` called with the same concurrency. Figures go in docs/http.md.
 *
 *   npm run bench:http                       # embedded PostgreSQL
 *   npm run bench:http -- --seconds 20 --connections 32
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { migrate, Queue } from "../src/index.js";
import { createHandler, createKey } from "../src/http/index.js";
import { startPostgres } from "../test/support/postgres.js";

const autocannon = createRequire(import.meta.url)("autocannon") as (options: object) => Promise<{
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  statusCodeStats: object;
}>;

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "10" }, connections: { type: "string", default: "16" }, "serve-for": { type: "string" } },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const schema = "djps_bench_http";

// The server runs in a process of its own, so that the load generator does
// not share its event loop: `--serve-for URL` is that child.
if (values["serve-for"]) {
  const queue = new Queue({ connectionString: values["serve-for"], schema, poolSize: CONNECTIONS });
  // One server with keys, one without (to show what the key look-up costs).
  const servers = [createServer(createHandler({ queue })), createServer(createHandler({ queue, auth: false }))];
  for (const server of servers) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  console.log(servers.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`).join(" "));
  process.once("SIGTERM", () => process.exit(0));
  await new Promise(() => {});
}

const pg = await startPostgres();
await migrate({ connectionString: pg.url, schema });
const queue = new Queue({ connectionString: pg.url, schema, poolSize: CONNECTIONS });
await queue.pool.query(`TRUNCATE ${schema}.jobs`);
const { key } = await createKey(queue, { name: "bench" });
const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--serve-for", pg.url, "--connections", String(CONNECTIONS)], {
  stdio: ["ignore", "pipe", "inherit"],
});
const [url, openUrl] = (await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve))).split(" ") as [string, string];
const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
const { job } = await queue.enqueue("bench", { n: 0 });

interface Row {
  what: string;
  perSecond: number;
  p50?: number;
  p99?: number;
}
const rows: Row[] = [];

async function http(what: string, options: { method: string; path?: string; body?: string; base?: string }): Promise<void> {
  const target = (options.base ?? url) + (options.path ?? "/jobs");
  const probe = await fetch(target, { method: options.method, headers, body: options.body });
  if (!probe.ok) throw new Error(`${what}: ${probe.status} ${await probe.text()}`);
  const result = await autocannon({ url: target, method: options.method, body: options.body, connections: CONNECTIONS, duration: SECONDS, headers });
  if (result.non2xx || result.errors) throw new Error(`${what}: ${result.non2xx} non-2xx answers, ${result.errors} errors ${JSON.stringify(result.statusCodeStats)}`);
  rows.push({ what, perSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 });
}

/** `CONNECTIONS` loops calling `call` for `SECONDS`. */
async function direct(what: string, call: () => Promise<unknown>): Promise<void> {
  let done = 0;
  const end = performance.now() + SECONDS * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      await call();
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  rows.push({ what, perSecond: done / ((performance.now() - start) / 1000) });
}

try {
  const body = JSON.stringify({ type: "bench", payload: { to: "a@example.com" } });
  await http("POST /jobs (HTTP, API key)", { method: "POST", body });
  await http("POST /jobs (HTTP, no keys)", { method: "POST", body, base: openUrl });
  await direct("queue.enqueue() (direct)", () => queue.enqueue("bench", { to: "a@example.com" }));
  await http("GET /jobs/:id (HTTP, API key)", { method: "GET", path: `/jobs/${job.id}` });
  await http("GET /jobs/:id (HTTP, no keys)", { method: "GET", path: `/jobs/${job.id}`, base: openUrl });
  await direct("queue.getJob() (direct)", () => queue.getJob(job.id));

  console.log(`${SECONDS} s each, ${CONNECTIONS} connections (HTTP) or concurrent calls (direct), PostgreSQL from ${pg.source}`);
  console.log("| what | requests/s | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |");
  for (const r of rows) console.log(`| ${r.what} | ${Math.round(r.perSecond).toLocaleString("en-US")} | ${r.p50 ?? "-"} | ${r.p99 ?? "-"} |`);
} finally {
  // A failed run must not leave the server or an embedded PostgreSQL behind.
  child.kill("SIGTERM");
  await queue.close();
  await pg.stop();
}
