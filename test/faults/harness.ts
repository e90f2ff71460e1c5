import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { DatabaseError, migrate, Queue, type EnqueueItem } from "../../src/index.js";
import { executionsTableCreate } from "./executions.js";
import type { WorkPayload } from "./worker-process.js";

const WORKER_SCRIPT = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

/** Settings of the worker processes a run starts. */
export interface WorkerSettings {
  concurrency: number;
  leaseMs: number;
  heartbeatMs: number;
  rescueMs: number;
  pollMs: number;
  timeoutMs: number;
  shutdownMs: number;
}

export const DEFAULT_WORKER: WorkerSettings = {
  concurrency: 5,
  leaseMs: 2000,
  heartbeatMs: 400,
  rescueMs: 300,
  pollMs: 200,
  timeoutMs: 3000,
  shutdownMs: 500,
};

/** What the run did to the system, counted by kind; the checker uses it to explain re-executions. */
export interface FaultLog {
  sigkill: string[];
  sigterm: string[];
  backendsTerminated: number;
  serverRestarts: number;
  producerRetries: number;
  [other: string]: unknown;
}

interface Child {
  id: string;
  process: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/**
 * One fault scenario's world: a migrated schema with an executions table, a
 * producer, worker child processes, and the faults done to them. Everything
 * it starts, `close()` stops, even after a failed assertion.
 */
export class FaultRun {
  readonly schema = `f_${randomBytes(5).toString("hex")}`;
  readonly appName = `djps fault ${this.schema}`;
  readonly faults: FaultLog = { sigkill: [], sigterm: [], backendsTerminated: 0, serverRestarts: 0, producerRetries: 0 };
  readonly children = new Map<string, Child>();
  readonly admin: pg.Pool;
  readonly queue: Queue;
  readonly startedAt = Date.now();
  #next = 0;

  constructor(
    readonly url: string,
    readonly settings: WorkerSettings = DEFAULT_WORKER,
  ) {
    this.admin = new pg.Pool({ connectionString: url, max: 3, application_name: "djps fault admin" });
    this.admin.on("error", () => {});
    const producerPool = new pg.Pool({ connectionString: url, max: 4, application_name: `${this.appName} producer` });
    producerPool.on("error", () => {});
    this.queue = new Queue({ pool: producerPool, schema: this.schema });
  }

  async setup(): Promise<void> {
    await migrate({ connectionString: this.url, schema: this.schema });
    await this.admin.query(executionsTableCreate(this.schema));
  }

  /** Starts a worker process and waits until it is claiming. */
  async spawnWorker(settings: Partial<WorkerSettings> = {}): Promise<string> {
    const s = { ...this.settings, ...settings };
    const id = `w${++this.#next}`;
    const child = spawn(process.execPath, ["--import", "tsx", WORKER_SCRIPT], {
      env: {
        ...process.env,
        DATABASE_URL: this.url,
        DJPS_SCHEMA: this.schema,
        WORKER_ID: id,
        APP_NAME: this.appName,
        CONCURRENCY: String(s.concurrency),
        LEASE_MS: String(s.leaseMs),
        HEARTBEAT_MS: String(s.heartbeatMs),
        RESCUE_MS: String(s.rescueMs),
        POLL_MS: String(s.pollMs),
        TIMEOUT_MS: String(s.timeoutMs),
        SHUTDOWN_MS: String(s.shutdownMs),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const entry: Child = {
      id,
      process: child,
      lines: [],
      exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
    };
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        entry.lines.push(JSON.parse(line));
      } catch {
        entry.lines.push({ event: "text", line });
      }
    });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    this.children.set(id, entry);
    const started = await Promise.race([
      waitUntil(() => entry.lines.some((l) => l.event === "started"), 30_000).then(() => true),
      entry.exited.then(() => false),
    ]);
    if (!started) throw new Error(`worker ${id} exited before starting: ${stderr.slice(-2000)}`);
    return id;
  }

  /** Worker processes still running. */
  live(): Child[] {
    return [...this.children.values()].filter((c) => c.process.exitCode === null && c.process.signalCode === null);
  }

  /** SIGKILLs a live worker that is in the middle of a job (waits until one is), and records it. */
  async killMidJob(signal: "SIGKILL" | "SIGTERM"): Promise<string | undefined> {
    const candidates = this.live();
    if (candidates.length === 0) return undefined;
    const victim = candidates[Math.floor(Math.random() * candidates.length)]!;
    const jobsBefore = victim.lines.filter((l) => l.event === "job").length;
    // Mid-job: wait for this worker to start one more job (or give up after a while: the queue may be drained).
    await waitUntil(() => victim.lines.filter((l) => l.event === "job").length > jobsBefore, 5_000).catch(() => {});
    victim.process.kill(signal);
    (signal === "SIGKILL" ? this.faults.sigkill : this.faults.sigterm).push(victim.id);
    await victim.exited;
    return victim.id;
  }

  /** Terminates one random backend of this run's workers, server side: any of them, or a LISTEN connection. */
  async terminateBackend(which: "any" | "listen" = "any"): Promise<boolean> {
    const { rows } = await this.admin.query(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
       WHERE application_name = $1 AND pid <> pg_backend_pid() AND ($2 = 'any' OR query LIKE 'LISTEN%')
       ORDER BY random() LIMIT 1`,
      [this.appName, which],
    );
    const done = rows[0]?.done === true;
    if (done) this.faults.backendsTerminated++;
    return done;
  }

  /**
   * Enqueues `count` jobs in batches, each with an idempotency key, retrying a
   * batch with the same keys whenever the connection drops mid-call (as a
   * careful producer would). Returns the keys.
   */
  async produce(count: number, payloadFor: (i: number) => WorkPayload, batch = 50): Promise<string[]> {
    const keys: string[] = [];
    for (let start = 0; start < count; start += batch) {
      const items: EnqueueItem[] = [];
      for (let i = start; i < Math.min(count, start + batch); i++) {
        const key = `job-${i}`;
        keys.push(key);
        items.push({ type: "work", payload: payloadFor(i), options: { idempotencyKey: key, priority: i % 3, maxAttempts: 10 } });
      }
      for (let tries = 0; ; tries++) {
        try {
          await this.queue.enqueueMany(items);
          break;
        } catch (error) {
          if (!(error instanceof DatabaseError) || tries > 200) throw error;
          this.faults.producerRetries++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    return keys;
  }

  /** Waits until every job is terminal (succeeded, dead or canceled); returns the time it took from the run's start. */
  async drain(timeoutMs = 120_000): Promise<number> {
    await waitUntil(async () => {
      const { rows } = await this.admin
        .query(`SELECT count(*)::int AS n FROM "${this.schema}".jobs WHERE status NOT IN ('succeeded', 'dead', 'canceled')`)
        .catch(() => ({ rows: [{ n: -1 }] }));
      return rows[0].n === 0;
    }, timeoutMs);
    return Date.now() - this.startedAt;
  }

  /** Stops every worker (SIGTERM, then SIGKILL), ends the pools and drops the schema. */
  async close(): Promise<void> {
    for (const child of this.live()) child.process.kill("SIGTERM");
    await Promise.all(
      [...this.children.values()].map((c) =>
        Promise.race([c.exited, new Promise((r) => setTimeout(r, 5000))]).then(() => {
          if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill("SIGKILL");
        }),
      ),
    );
    await this.queue.close();
    await this.queue.pool.end().catch(() => {});
    await this.admin.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch(() => {});
    await this.admin.end();
  }
}

/** Polls `check` until it is true; rejects after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
