/**
 * A process running two djps Workers made with `handleSignals: true`, for
 * tests of the signal handling they share: `node --import tsx
 * test/support/child-signal-workers.ts`, spawned with `spawnWorker({ script })`
 * (see processes.ts).
 *
 * The workers are `<WORKER_ID>-first` (queue `first`) and `<WORKER_ID>-second`
 * (queue `second`), each running one job at a time. Their `work` handler
 * records each execution in `<schema>.executions` and works until the parent
 * writes `release <job id>` on this process's stdin (or its signal aborts).
 * It installs no signal listener of its own: the workers' handling decides
 * when the process ends. Prints one JSON line per step on stdout:
 *
 *   {"event":"started"}                                 both workers claim
 *   {"event":"job","id":...,"by":...}                   a job started (its execution row is written)
 *   {"event":"done","id":...,"by":...,"outcome":...}    its handler ended
 *   {"event":"succeeded"|"released","id":...,"by":...}
 *   {"event":"stopped","by":...}                        a worker stopped
 *   {"event":"log","level":...,"msg":...,"by":...}      a worker's log line (info and above)
 *   {"event":"fatal","message":...}                     could not start; exits 1
 *
 * env: DATABASE_URL, DJPS_SCHEMA, WORKER_ID (required); SHUTDOWN_MS (30000).
 * It exits by itself (code 1, releasing its jobs) when its stdin closes: the
 * parent died without killing it.
 */
import { createInterface } from "node:readline";
import pg from "pg";
import { Worker, type Logger } from "../../src/index.js";
import { recordingHandler } from "./processes.js";

const env = process.env;
const schema = env.DJPS_SCHEMA!;
const prefix = env.WORKER_ID!;
const say = (event: string, data: object = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, workerId: prefix, ...data })}\n`);
};

const recorder = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4, application_name: `djps test recorder ${prefix}` });
recorder.on("error", () => {});

/** Jobs the parent let go of, and the handlers waiting for theirs. */
const released = new Set<string>();
const waiting = new Map<string, () => void>();
function releaseOf(id: string): Promise<void> {
  if (released.has(id)) return Promise.resolve();
  return new Promise((resolve) => waiting.set(id, resolve));
}

function logger(by: string): Logger {
  const line = (level: string) => (obj: object, msg?: string) => say("log", { level, msg, by, ...obj });
  return { debug: () => {}, info: line("info"), warn: line("warn"), error: line("error") };
}

function startWorker(queue: string): Worker {
  const by = `${prefix}-${queue}`;
  const worker = new Worker(
    {
      work: recordingHandler({
        pool: recorder,
        schema,
        workerId: by,
        jobMs: 0,
        until: (ctx) => releaseOf(ctx.job.id),
        onStart: (ctx) => say("job", { id: ctx.job.id, by }),
        onEnd: (ctx, outcome) => say("done", { id: ctx.job.id, by, outcome }),
      }),
    },
    {
      connectionString: env.DATABASE_URL,
      schema,
      workerId: by,
      queues: [queue],
      concurrency: 1,
      handleSignals: true,
      shutdownTimeoutMs: env.SHUTDOWN_MS ? Number(env.SHUTDOWN_MS) : 30_000,
      logger: logger(by),
    },
  );
  worker.on("job:succeeded", ({ job }) => say("succeeded", { id: job.id, by }));
  worker.on("job:released", ({ job }) => say("released", { id: job.id, by }));
  worker.on("worker:stopped", () => say("stopped", { by }));
  return worker;
}

const workers = [startWorker("first"), startWorker("second")];

createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, id] = line.trim().split(/\s+/);
  if (command !== "release" || !id) return;
  released.add(id);
  waiting.get(id)?.();
});
// Orphaned: release running jobs at once rather than waiting out the grace period.
const orphaned = async () => {
  await Promise.all(workers.map((w) => w.stop({ timeoutMs: 0 })));
  await recorder.end().catch(() => {});
  process.exit(1);
};
process.stdin.on("end", () => void orphaned());
process.stdin.on("error", () => void orphaned());

try {
  await Promise.all(workers.map((w) => w.start()));
} catch (error) {
  say("fatal", { message: (error as Error).message });
  await Promise.all(workers.map((w) => w.stop({ timeoutMs: 0 })));
  await recorder.end().catch(() => {});
  process.exit(1);
}
say("started");
