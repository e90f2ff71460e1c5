import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { migrate, Queue } from "../src/index.js";
import { databaseUrl, waitFor, within } from "./support/db.js";

// Every runnable example in examples/, started as its own process the way its
// header says (tsx, DATABASE_URL), each on a fresh database of its own since
// the examples use djps's default schema. Each must finish on its own, or
// serve and then exit 0 on SIGTERM.

const root = fileURLToPath(new URL("..", import.meta.url));

interface Example {
  child: ChildProcess;
  lines: string[];
  stderr: string[];
  /** Resolves with the first stdout line matching `pattern` (its match), or rejects after `ms`. */
  line(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Database {
  url: string;
  /** A Queue on the database's default schema, as the examples use it; closed with the database. */
  queue(): Queue;
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<R[]>;
}

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A database of the test's own, dropped after it. */
async function freshDatabase(): Promise<Database> {
  const name = `ex_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.href, max: 2 });
  const queues: Queue[] = [];
  cleanups.push(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await pool.end();
    const drop = new pg.Client({ connectionString: databaseUrl() });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await drop.end();
  });
  return {
    url: url.href,
    queue() {
      const queue = new Queue({ connectionString: url.href });
      queues.push(queue);
      return queue;
    },
    query: async (text, values) => (await pool.query(text, values)).rows,
  };
}

/** Starts `examples/<file>` as its header says to run it, against `db`. */
function start(file: string, db: Database, env: Record<string, string> = {}): Example {
  const child = spawn(process.execPath, ["--import", "tsx", `examples/${file}`], {
    cwd: root,
    // examples/tsconfig.json maps "djps" to the source, as the package resolves it for users.
    env: { ...process.env, DATABASE_URL: db.url, TSX_TSCONFIG_PATH: "examples/tsconfig.json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters) wake();
    }),
  );
  const line = (pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> =>
    within(
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          for (const l of lines) {
            const match = pattern.exec(l);
            if (match) {
              waiters.delete(check);
              return resolve(match);
            }
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(new Error(`examples/${file} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${lines.join("\n")}\n${stderr.join("\n")}`));
          }
        };
        waiters.add(check);
        check();
      }),
      ms,
      `examples/${file} to print ${pattern}; it printed:\n${lines.join("\n")}\n${stderr.join("\n")}`,
    );
  return { child, lines, stderr, line, exited };
}

/** Runs an example that ends on its own; resolves with its exit and output. */
async function run(file: string, db: Database): Promise<{ code: number | null; out: string }> {
  const example = start(file, db);
  const { code } = await within(example.exited, 30_000, `examples/${file} to end`);
  return { code, out: `${example.lines.join("\n")}\n${example.stderr.join("\n")}` };
}

/** Sends SIGTERM and resolves with the exit code. */
async function terminate(example: Example): Promise<number | null> {
  example.child.kill("SIGTERM");
  const { code, signal } = await within(example.exited, 20_000, "the example to exit after SIGTERM");
  expect(signal, example.stderr.join("\n")).toBeNull();
  return code;
}

const post = async (url: string, body: unknown): Promise<{ status: number; body: any }> => {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
};

describe("examples/quickstart.ts (the README's first block)", () => {
  it("runs as printed: migrates, enqueues, runs the job, waits for it and exits 0", async () => {
    const db = await freshDatabase();
    const { code, out } = await run("quickstart.ts", db);
    expect(out).toContain("true succeeded { messageId: 'sent-to-a@b.com' }");
    expect(code, out).toBe(0);
    const [job] = await db.query("SELECT status, queue, priority, max_attempts, idempotency_key, result FROM djps.jobs");
    expect(job).toEqual({
      status: "succeeded",
      queue: "emails",
      priority: 10,
      max_attempts: 5,
      idempotency_key: "welcome-42",
      result: { messageId: "sent-to-a@b.com" },
    });
  });
});

describe("examples/typed-jobs.ts", () => {
  it("runs both typed jobs and refuses a payload its schema does not match", async () => {
    const db = await freshDatabase();
    const { code, out } = await run("typed-jobs.ts", db);
    expect(out).toContain("send_email: { delivered: 'Welcome -> ada@example.com' }");
    expect(out).toContain("resize_image: { thumbnail: 'https://example.com/a.png?w=320' }");
    expect(out).toContain("refused: payload.to");
    expect(code, out).toBe(0);
    expect(await db.query("SELECT type, status FROM djps.jobs ORDER BY type")).toEqual([
      { type: "resize_image", status: "succeeded" },
      { type: "send_email", status: "succeeded" },
    ]);
  });
});

describe("examples/cron.ts", () => {
  it("runs two ticks of its every-second schedule, one job each, then removes it and ends", async () => {
    const db = await freshDatabase();
    const { code, out } = await run("cron.ts", db);
    expect(out).toMatch(/tick 1: schedule:heartbeat:\S+Z \{"source":"cron example"\}\ntick 2: schedule:heartbeat:/);
    expect(out).toContain("done");
    expect(code, out).toBe(0);
    expect(await db.query("SELECT name FROM djps.schedules")).toEqual([]);
    const ticks = await db.query<{ idempotency_key: string }>("SELECT idempotency_key FROM djps.jobs WHERE type = 'record_heartbeat' ORDER BY run_at");
    expect(new Set(ticks.map((t) => t.idempotency_key)).size).toBe(ticks.length);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
  });
});

describe("examples/express-outbox.ts", () => {
  it("writes the user and the job in one transaction: a duplicate sign-up leaves no job; the worker sends the email", async () => {
    const db = await freshDatabase();
    const example = start("express-outbox.ts", db, { PORT: "0" });
    const [, url] = await example.line(/^listening on (http:\/\/\S+)$/);
    const first = await post(`${url}/signup`, { email: "ada@example.com" });
    expect(first).toMatchObject({ status: 201, body: { email: "ada@example.com" } });
    const again = await post(`${url}/signup`, { email: "ada@example.com" });
    expect(again).toEqual({ status: 409, body: { error: "ada@example.com has already signed up" } });
    expect((await post(`${url}/signup`, { name: "no email" })).status).toBe(400);

    const done = await db.queue().waitFor(first.body.jobId, { timeoutMs: 20_000 });
    expect(done.result).toEqual({ sent: true });
    await example.line(/^welcome email sent to ada@example.com$/);
    expect(await db.query("SELECT email FROM users")).toEqual([{ email: "ada@example.com" }]);
    // The second sign-up's job was rolled back with its insert.
    expect(await db.query("SELECT id FROM djps.jobs")).toEqual([{ id: first.body.jobId }]);
    expect(await terminate(example)).toBe(0);
  });
});

describe("examples/fastify.ts", () => {
  it("enqueues from a route, reports the job's progress and result, and exits 0 on SIGTERM", async () => {
    const db = await freshDatabase();
    const example = start("fastify.ts", db, { PORT: "0" });
    const [, url] = await example.line(/^listening on (http:\/\/\S+)$/);
    const asked = await post(`${url}/reports`, { month: "2026-11" });
    expect(asked.status).toBe(202);
    const report = await waitFor(async () => {
      const body = (await (await fetch(`${url}/reports/${asked.body.jobId}`)).json()) as { status: string; result: unknown };
      return body.status === "succeeded" ? body : null;
    }, "the report to be built");
    expect(report.result).toEqual({ month: "2026-11", total: 42 });
    // The same month again: the job already there, by its idempotency key.
    expect(await post(`${url}/reports`, { month: "2026-11" })).toEqual({ status: 200, body: { jobId: asked.body.jobId, status: "succeeded" } });
    expect((await post(`${url}/reports`, { month: "November" })).status).toBe(400);
    expect((await fetch(`${url}/reports/not-a-job-id`)).status).toBe(400);
    expect((await fetch(`${url}/reports/01a2312a-0000-7000-8000-000000000000`)).status).toBe(404);
    expect(await terminate(example)).toBe(0);
  });
});

describe("examples/standalone-worker.ts", () => {
  const startWorker = async (db: Database, env: Record<string, string> = {}) => {
    const example = start("standalone-worker.ts", db, { HEALTH_PORT: "0", ...env });
    const [, probes] = await example.line(/^probes on (http:\/\/\S+)$/);
    await example.line(/^ready$/);
    return { example, probes: probes! };
  };

  it("is live and ready once started, and on SIGTERM turns unready, lets the running job finish and exits 0", async () => {
    // The worker migrates nothing: the schema is migrated before it deploys.
    const db = await freshDatabase();
    const queue = db.queue();
    await migrate({ connectionString: db.url });
    const { example, probes } = await startWorker(db);
    expect((await fetch(`${probes}/live`)).status).toBe(200);
    expect((await fetch(`${probes}/ready`)).status).toBe(200);

    const { job } = await queue.enqueue("process_upload", { ms: 1_500 });
    await example.line(new RegExp(`^started ${job.id}$`));
    example.child.kill("SIGTERM");
    await waitFor(async () => (await fetch(`${probes}/ready`)).status === 503, "/ready to answer 503 while stopping", 5_000);
    const { code } = await within(example.exited, 20_000, "the worker to exit");
    expect(code, example.stderr.join("\n")).toBe(0);
    expect(example.lines).toEqual(expect.arrayContaining([`finished ${job.id}`, "stopped"]));
    expect(await queue.getJob(job.id)).toMatchObject({ status: "succeeded", attempts: 1, result: { processedInMs: 1_500 } });
  });

  it("puts a job that outlasts STOP_TIMEOUT_MS back to queued, without spending an attempt, and still exits 0", async () => {
    const db = await freshDatabase();
    const queue = db.queue();
    await migrate({ connectionString: db.url });
    const { example } = await startWorker(db, { STOP_TIMEOUT_MS: "200" });
    const { job } = await queue.enqueue("process_upload", { ms: 60_000 }, { maxAttempts: 3 });
    await example.line(new RegExp(`^started ${job.id}$`));
    expect(await terminate(example)).toBe(0);
    expect(example.lines).not.toContain(`finished ${job.id}`);
    const released = await queue.getJob(job.id);
    expect(released).toMatchObject({ status: "queued", attempts: 1, maxAttempts: 4, lockedBy: null });
  });
});
