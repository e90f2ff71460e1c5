/**
 * A worker process for tests: `node --import tsx test/support/child-worker.ts`.
 * Runs one djps Worker whose handler records each execution in
 * `<schema>.executions` (see processes.ts) and works for JOB_MS. Prints one
 * JSON line per lifecycle step on stdout:
 *
 *   {"event":"started","workerId":...}            claiming
 *   {"event":"job","id":...,"attempt":n}          a job started (its execution row is written)
 *   {"event":"done","id":...,"attempt":n,"outcome":"returned"|"aborted"|"threw"}
 *   {"event":"succeeded"|"released"|"lease-lost","id":...}
 *   {"event":"error","during":...,"message":...}  a worker:error
 *   {"event":"stopping"} / {"event":"stopped"}     on SIGTERM; exits 0 after `stopped`
 *   {"event":"fatal","message":...}               could not start; exits 1
 *
 * env: DATABASE_URL, DJPS_SCHEMA, WORKER_ID (required); CONCURRENCY (5),
 * LEASE_MS (30000), HEARTBEAT_MS (lease / 3), JOB_MS (0), POLL_MS (1000),
 * RESCUE_MS (15000), SHUTDOWN_MS (30000), JOB_TYPE ("work").
 *
 * It exits by itself (code 1, releasing its jobs) when its stdin closes: the
 * parent died without killing it.
 */
import pg from "pg";
import { Worker } from "../../src/index.js";
import { recordingHandler } from "./processes.js";

const env = process.env;
const schema = env.DJPS_SCHEMA!;
const workerId = env.WORKER_ID!;
const num = (name: string): number | undefined => (env[name] === undefined || env[name] === "" ? undefined : Number(env[name]));
const say = (event: string, data: object = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, workerId, ...data })}\n`);
};

const recorder = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4, application_name: `djps test recorder ${workerId}` });
recorder.on("error", () => {});

/** Handler executions not yet recorded as ended (a released job's handler may outlive `stop()` briefly). */
const pending = new Set<string>();
let allRecorded: (() => void) | undefined;

const handler = recordingHandler({
  pool: recorder,
  schema,
  workerId,
  jobMs: num("JOB_MS") ?? 0,
  onStart: (ctx) => {
    pending.add(`${ctx.job.id}:${ctx.attempt}`);
    say("job", { id: ctx.job.id, attempt: ctx.attempt });
  },
  onEnd: (ctx, outcome) => {
    pending.delete(`${ctx.job.id}:${ctx.attempt}`);
    say("done", { id: ctx.job.id, attempt: ctx.attempt, outcome });
    if (pending.size === 0) allRecorded?.();
  },
});

const worker = new Worker(
  { [env.JOB_TYPE ?? "work"]: handler },
  {
    connectionString: env.DATABASE_URL,
    schema,
    workerId,
    concurrency: num("CONCURRENCY") ?? 5,
    leaseMs: num("LEASE_MS") ?? 30_000,
    heartbeatIntervalMs: num("HEARTBEAT_MS"),
    pollIntervalMs: num("POLL_MS") ?? 1000,
    rescueIntervalMs: num("RESCUE_MS") ?? 15_000,
    shutdownTimeoutMs: num("SHUTDOWN_MS") ?? 30_000,
  },
);
worker.on("job:succeeded", ({ job }) => say("succeeded", { id: job.id, attempt: job.attempts }));
worker.on("job:released", ({ job }) => say("released", { id: job.id, attempt: job.attempts }));
worker.on("job:lease-lost", ({ job }) => say("lease-lost", { id: job.id, attempt: job.attempts }));
worker.on("worker:error", ({ during, error }) => say("error", { during, message: error.message }));

let stopping = false;
async function shutdown(code: number, timeoutMs?: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say("stopping");
    await worker.stop(timeoutMs === undefined ? {} : { timeoutMs });
    // A handler cut off by the grace period may still be recording its end.
    if (pending.size > 0) {
      await Promise.race([new Promise<void>((r) => (allRecorded = r)), new Promise((r) => setTimeout(r, 5000))]);
    }
    await recorder.end().catch(() => {});
    say("stopped", { code });
  }
  process.exit(code);
}

process.once("SIGTERM", () => void shutdown(0));
// Orphaned: release running jobs at once rather than waiting out the grace period.
process.stdin.on("end", () => void shutdown(1, 0));
process.stdin.on("error", () => void shutdown(1, 0));
process.stdin.resume();

try {
  await worker.start();
} catch (error) {
  say("fatal", { message: (error as Error).message });
  await recorder.end().catch(() => {});
  process.exit(1);
}
say("started");
