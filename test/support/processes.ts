/**
 * Worker child processes for tests: the executions side table, the recording
 * handler every test worker runs (in a child or in-process), and the parent
 * side of a child (spawn, read its JSON lines, wait for an event, kill).
 *
 * This module must not import vitest: the child script imports it too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import type { Handler, JobContext } from "../../src/index.js";

/**
 * Every execution of a job's handler, recorded by the handler itself: a row at
 * start, `finished_at` at the end. A process killed mid-job leaves
 * `finished_at` null. `outcome` says how an execution that ended in-process
 * ended: `returned` (the handler succeeded), `aborted` (its signal fired:
 * shutdown, timeout or lease loss) or `threw`.
 */
export const executionsTableSql = (schema: string): string => `CREATE TABLE IF NOT EXISTS "${schema}".executions (
  job_id      uuid        NOT NULL,
  attempt     integer     NOT NULL,
  worker_id   text        NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  outcome     text
)`;

export async function createExecutionsTable(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(executionsTableSql(schema));
}

/** One row of the executions table. */
export interface Execution {
  job_id: string;
  attempt: number;
  worker_id: string;
  started_at: Date;
  finished_at: Date | null;
  outcome: string | null;
}

export async function readExecutions(pool: pg.Pool, schema: string): Promise<Execution[]> {
  const { rows } = await pool.query(`SELECT * FROM "${schema}".executions ORDER BY job_id, started_at`);
  return rows;
}

/**
 * Executions of the same job that overlap in time (the second started before
 * the first ended). An execution that never finished (its process was killed)
 * is treated as open-ended, so call this only where no execution was killed,
 * or pass the finished ones.
 */
export function overlappingExecutions(executions: readonly Execution[]): Array<[Execution, Execution]> {
  const byJob = new Map<string, Execution[]>();
  for (const e of executions) {
    const list = byJob.get(e.job_id) ?? [];
    list.push(e);
    byJob.set(e.job_id, list);
  }
  const overlaps: Array<[Execution, Execution]> = [];
  for (const list of byJob.values()) {
    list.sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const next = list[i]!;
      if (prev.finished_at === null || prev.finished_at.getTime() > next.started_at.getTime()) overlaps.push([prev, next]);
    }
  }
  return overlaps;
}

export interface RecordingHandlerOptions {
  /** Where to record (a pool of its own, not the worker's). */
  pool: pg.Pool;
  schema: string;
  workerId: string;
  /** How long each job works, honouring `ctx.signal`. */
  jobMs: number;
  /** When given, each job works until this resolves (after `jobMs`), honouring `ctx.signal`. */
  until?: (ctx: JobContext) => Promise<void>;
  /** Called once the start of an execution is recorded. */
  onStart?: (ctx: JobContext) => void;
  /** Called once the end of an execution is recorded. */
  onEnd?: (ctx: JobContext, outcome: "returned" | "aborted" | "threw") => void;
}

/**
 * The handler test workers run: records the execution, works for `jobMs`
 * (stopping early when its signal is aborted), records the end, and returns
 * `{ by: workerId }`.
 */
export function recordingHandler(options: RecordingHandlerOptions): Handler<unknown, { by: string }> {
  const { pool, schema, workerId, jobMs } = options;
  return async (_payload, ctx) => {
    await pool.query(`INSERT INTO "${schema}".executions (job_id, attempt, worker_id) VALUES ($1, $2, $3)`, [
      ctx.job.id,
      ctx.attempt,
      workerId,
    ]);
    options.onStart?.(ctx);
    let outcome: "returned" | "aborted" | "threw" = "returned";
    try {
      if (jobMs > 0) await sleep(jobMs, ctx.signal);
      if (options.until) await untilAborted(options.until(ctx), ctx.signal);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      return { by: workerId };
    } catch (error) {
      outcome = ctx.signal.aborted ? "aborted" : "threw";
      throw error;
    } finally {
      await pool.query(
        `UPDATE "${schema}".executions SET finished_at = clock_timestamp(), outcome = $4
         WHERE job_id = $1 AND attempt = $2 AND worker_id = $3 AND finished_at IS NULL`,
        [ctx.job.id, ctx.attempt, workerId, outcome],
      );
      options.onEnd?.(ctx, outcome);
    }
  };
}

/** `work`, or a rejection with the signal's reason once it is aborted. */
function untilAborted(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      reject,
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

// ---------------------------------------------------------------------------
// The parent side.

const CHILD_SCRIPT = fileURLToPath(new URL("./child-worker.ts", import.meta.url));

/** Settings of a worker child process (see child-worker.ts for the defaults). */
export interface ChildWorkerSettings {
  url: string;
  schema: string;
  workerId: string;
  concurrency?: number;
  leaseMs?: number;
  heartbeatMs?: number;
  /** How long each job works. */
  jobMs?: number;
  pollMs?: number;
  rescueMs?: number;
  /** `stop()`'s grace period on SIGTERM. */
  shutdownMs?: number;
  /** The job type it handles. @default "work" */
  jobType?: string;
  /** The child script to run (a path). @default child-worker.ts */
  script?: string;
}

/** One JSON line a child printed. */
export interface ChildEvent {
  event: string;
  workerId: string;
  [key: string]: unknown;
}

export interface ChildWorker {
  readonly child: ChildProcess;
  readonly workerId: string;
  /** Every line the child printed so far, parsed. */
  readonly events: ChildEvent[];
  /** What the child wrote to stderr (the tail, for error messages). */
  stderr(): string;
  /**
   * Resolves with the first event (past or future) that matches; rejects if
   * the child exits first or after `timeoutMs`.
   */
  waitFor(predicate: (e: ChildEvent) => boolean, what?: string, timeoutMs?: number): Promise<ChildEvent>;
  /** Sends a signal (if the child still runs). */
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the child has exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether the child is still running. */
  readonly alive: boolean;
}

/** Every child spawned and not yet reaped, so a failed test cannot leak one. */
const children = new Set<ChildWorker>();

/**
 * Starts a worker child process and waits until it printed `started` (it is
 * claiming). The child is tracked: `killAllChildren()` ends it.
 */
export async function spawnWorker(settings: ChildWorkerSettings, startTimeoutMs = 30_000): Promise<ChildWorker> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: settings.url,
    DJPS_SCHEMA: settings.schema,
    WORKER_ID: settings.workerId,
  };
  const numeric: Array<[string, number | undefined]> = [
    ["CONCURRENCY", settings.concurrency],
    ["LEASE_MS", settings.leaseMs],
    ["HEARTBEAT_MS", settings.heartbeatMs],
    ["JOB_MS", settings.jobMs],
    ["POLL_MS", settings.pollMs],
    ["RESCUE_MS", settings.rescueMs],
    ["SHUTDOWN_MS", settings.shutdownMs],
  ];
  for (const [name, value] of numeric) {
    if (value === undefined) delete env[name];
    else env[name] = String(value);
  }
  if (settings.jobType) env.JOB_TYPE = settings.jobType;
  else delete env.JOB_TYPE;

  // stdin is a pipe the child watches: if this process dies without killing
  // it, the pipe closes and the child exits on its own.
  const child = spawn(process.execPath, ["--import", "tsx", settings.script ?? CHILD_SCRIPT], { env, stdio: ["pipe", "pipe", "pipe"] });
  const events: ChildEvent[] = [];
  const listeners = new Set<() => void>();
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let event: ChildEvent;
    try {
      event = JSON.parse(line);
    } catch {
      event = { event: "text", workerId: settings.workerId, line };
    }
    events.push(event);
    for (const listener of [...listeners]) listener();
  });
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      alive = false;
      children.delete(handle);
      for (const listener of [...listeners]) listener();
      resolve({ code, signal });
    });
  });
  child.stdin!.on("error", () => {});

  const handle: ChildWorker = {
    child,
    workerId: settings.workerId,
    events,
    stderr: () => stderr,
    get alive() {
      return alive;
    },
    exited,
    kill(signal) {
      if (alive) child.kill(signal);
    },
    waitFor(predicate, what = "an event", timeoutMs = 20_000) {
      return new Promise<ChildEvent>((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate);
          if (found) {
            done();
            resolve(found);
          } else if (!alive) {
            done();
            reject(new Error(`worker ${settings.workerId} exited before ${what}; stderr: ${stderr.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what} from worker ${settings.workerId}; stderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
  children.add(handle);
  await handle.waitFor((e) => e.event === "started", "started", startTimeoutMs);
  return handle;
}

/** SIGKILLs every child still running and waits for them to exit. Use in afterEach/afterAll. */
export async function killAllChildren(): Promise<void> {
  const running = [...children];
  for (const c of running) c.kill("SIGKILL");
  await Promise.all(running.map((c) => c.exited));
}

// A last resort should the test process exit with children alive (exit handlers must be synchronous).
process.once("exit", () => {
  for (const c of children) {
    try {
      c.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});
