/**
 * A worker process as it runs in a container: its own process, no web app
 * around it, stopped by the platform with SIGTERM.
 *
 * - Probes: HTTP on HEALTH_PORT (default 8081), what Kubernetes'
 *   `httpGet` probes call, with no shell or file in the image needed.
 *   `GET /live` answers 200 while the process is up (a liveness probe restarts
 *   a process that stops answering). `GET /ready` answers 200 once the worker
 *   has started (schema version checked, connections made) and 503 from
 *   SIGTERM on; a worker takes no traffic, so readiness here tells a rollout
 *   the new process came up.
 * - Shutdown: on SIGTERM (or SIGINT) it stops claiming, lets running jobs
 *   finish for up to STOP_TIMEOUT_MS (default 25 s), then puts the rest back
 *   to `queued` without spending an attempt, closes the probe server, and
 *   exits 0. Keep STOP_TIMEOUT_MS below the pod's
 *   terminationGracePeriodSeconds (30 s by default), or the kill comes first
 *   and the jobs wait for their leases to pass: see docs/deploying.md.
 *
 * test/examples.run.test.ts runs it. In your code, import from "djps"
 * instead of ../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/standalone-worker.ts
 */
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "../src/index.js";

const healthPort = Number(process.env.HEALTH_PORT ?? 8081);
const stopTimeoutMs = Number(process.env.STOP_TIMEOUT_MS ?? 25_000);

const worker = new Worker({
  // Stands in for real work: takes `ms` milliseconds, and gives up when the
  // worker aborts it (shutdown past its timeout), as a handler should.
  process_upload: async (payload, ctx) => {
    const { ms } = payload as { ms: number };
    console.log(`started ${ctx.job.id}`);
    await sleep(ms, undefined, { signal: ctx.signal });
    console.log(`finished ${ctx.job.id}`);
    return { processedInMs: ms };
  },
}, { concurrency: 5 });

let state: "starting" | "ready" | "stopping" = "starting";
const probes = createServer((req, res) => {
  const ok = req.url === "/live" || (req.url === "/ready" && state === "ready");
  res.writeHead(ok ? 200 : req.url === "/ready" ? 503 : 404, { "content-type": "text/plain" }).end(ok ? "ok\n" : `${state}\n`);
});
probes.listen(healthPort, () => {
  const address = probes.address();
  console.log(`probes on http://127.0.0.1:${typeof address === "object" && address ? address.port : healthPort}`);
});

async function shutdown(signal: string): Promise<void> {
  if (state === "stopping") return;
  state = "stopping";
  console.log(`${signal}: stopping`);
  await worker.stop({ timeoutMs: stopTimeoutMs });
  probes.closeAllConnections();
  await new Promise((resolve) => probes.close(resolve));
  console.log("stopped");
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));

await worker.start();
if (state === "starting") state = "ready";
console.log("ready");
