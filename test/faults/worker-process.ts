/**
 * A worker process for the fault suite. Runs one djps Worker whose handler
 * records every execution in `<schema>.executions` and then behaves as its
 * payload says: work for `ms`, throw, hang past its timeout, or stall the
 * event loop past its lease. Prints one JSON line per lifecycle step.
 *
 * env: DATABASE_URL, DJPS_SCHEMA, WORKER_ID, CONCURRENCY, LEASE_MS,
 *      HEARTBEAT_MS, RESCUE_MS, POLL_MS, TIMEOUT_MS, APP_NAME
 */
import pg from "pg";
import { Worker, type JobContext } from "../../src/index.js";
import { executionFinish, executionStart } from "./executions.js";

export interface WorkPayload {
  /** How long the handler works, honouring its signal. */
  ms: number;
  /** Throw on attempts up to this one. */
  failUntil?: number;
  /** Ignore the signal and never return on attempts up to this one (the timeout fails them). */
  hangUntil?: number;
  /** Block the event loop this long on attempts up to `stallUntil` (past the lease: no heartbeats). */
  stallUntil?: number;
  stallMs?: number;
}

const env = process.env;
const schema = env.DJPS_SCHEMA!;
const workerId = env.WORKER_ID!;
const say = (event: string, data: object = {}) => process.stdout.write(`${JSON.stringify({ event, workerId, ...data })}\n`);

const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 6, application_name: env.APP_NAME ?? "djps fault worker" });
pool.on("error", () => {});
const recorder = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4, application_name: "djps fault recorder" });
recorder.on("error", () => {});

async function work(input: unknown, ctx: JobContext): Promise<{ by: string }> {
  const payload = input as WorkPayload;
  const execution = await executionStart(recorder, schema, ctx, workerId);
  say("job", { id: ctx.job.id, attempt: ctx.attempt });
  try {
    if (ctx.attempt <= (payload.stallUntil ?? 0)) {
      const until = Date.now() + (payload.stallMs ?? 0);
      while (Date.now() < until) {
        // A stalled event loop: no heartbeats, no timers, nothing.
      }
    }
    if (ctx.attempt <= (payload.failUntil ?? 0)) throw new Error(`planned failure on attempt ${ctx.attempt}`);
    if (ctx.attempt <= (payload.hangUntil ?? 0)) await new Promise(() => {});
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, payload.ms);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      }, { once: true });
    });
    await executionFinish(recorder, schema, execution, "returned");
    return { by: workerId };
  } catch (error) {
    await executionFinish(recorder, schema, execution, ctx.signal.aborted ? "aborted" : "threw").catch(() => {});
    throw error;
  }
}

function makeWorker(): Worker {
  const w = new Worker(
    { work },
    {
      pool,
      schema,
      workerId,
      concurrency: Number(env.CONCURRENCY ?? 5),
      leaseMs: Number(env.LEASE_MS ?? 2000),
      heartbeatIntervalMs: Number(env.HEARTBEAT_MS ?? 400),
      rescueIntervalMs: Number(env.RESCUE_MS ?? 300),
      pollIntervalMs: Number(env.POLL_MS ?? 200),
      timeoutMs: Number(env.TIMEOUT_MS ?? 3000),
      backoff: { baseMs: 20, maxMs: 200 },
      shutdownTimeoutMs: Number(env.SHUTDOWN_MS ?? 500),
    },
  );
  w.on("worker:error", ({ during, error }) => say("error", { during, message: error.message }));
  w.on("job:lease-lost", ({ job }) => say("lease-lost", { id: job.id, attempt: job.attempts }));
  w.on("job:released", ({ job }) => say("released", { id: job.id }));
  return w;
}

// The server may be restarting when this process starts: keep trying with a fresh Worker.
let worker = makeWorker();
for (let tries = 0; ; tries++) {
  try {
    await worker.start();
    break;
  } catch (error) {
    if (tries > 100) throw error;
    await new Promise((r) => setTimeout(r, 200));
    worker = makeWorker();
  }
}

process.once("SIGTERM", () => {
  say("stopping");
  void worker.stop().then(async () => {
    await Promise.all([pool.end(), recorder.end()]);
    say("stopped");
    process.exit(0);
  });
});

say("started");
