import pg from "pg";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, ValidationError, Worker } from "../src/index.js";

// The constructor checks handlers and options before anything connects: a
// ValidationError names the field, with one message shape.

const url = "postgres://nobody@127.0.0.1:1/none";
const ok = { t: async () => undefined };

function refused(make: () => unknown): ValidationError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError, but the worker was made");
}

describe("Worker options", () => {
  it.each([
    [0, "`0` (number)"],
    [-3, "`-3` (number)"],
    [1.5, "`1.5` (number)"],
    ["10", '`"10"` (string)'],
    [10_001, "`10001` (number)"],
  ])("refuses concurrency %j", (concurrency, shown) => {
    const error = refused(() => new Worker(ok, { connectionString: url, concurrency: concurrency as number }));
    expect(error.field).toBe("options.concurrency");
    expect(error.message).toBe(`Expected \`options.concurrency\` to be an integer from 1 to 10000, got ${shown}`);
  });

  it("refuses no handlers, a handler that is not a function, and a bad job type", () => {
    let error = refused(() => new Worker({}, { connectionString: url }));
    expect(error.field).toBe("handlers");
    expect(error.message).toContain("at least one handler");
    error = refused(() => new Worker({ t: "nope" as any }, { connectionString: url }));
    expect(error.field).toBe("handlers.t");
    error = refused(() => new Worker({ t: { handler: async () => 1, retries: 3 } as any }, { connectionString: url }));
    expect(error.field).toBe("handlers.t.retries");
    error = refused(() => new Worker({ "bad type!": async () => 1 }, { connectionString: url }));
    expect(error.field).toBe("handlers.bad type!");
    expect(error.message).toContain("valid job type name");
    error = refused(() => new Worker({ t: { timeoutMs: 5 } as any }, { connectionString: url }));
    expect(error.field).toBe("handlers.t.handler");
    error = refused(() => new Worker(null as any, { connectionString: url }));
    expect(error.field).toBe("handlers");
  });

  it("refuses an unknown option, naming it", () => {
    const error = refused(() => new Worker(ok, { connectionString: url, concurency: 5 } as any));
    expect(error.field).toBe("options.concurency");
    expect(error.message).toContain("got unknown `concurency`");
  });

  it.each([[[]], [[""]], [["ok", "no spaces"]], ["emails"], [[42]]])("refuses queues %j", (queues) => {
    const error = refused(() => new Worker(ok, { connectionString: url, queues: queues as any }));
    expect(error.field).toMatch(/^options\.queues/);
    expect(error.message).toMatch(/^Expected `options\.queues(\.\d+)?` to be /);
  });

  it("groups each maintenance duty's settings under its name, and still takes the older flat intervals", () => {
    expect(() => new Worker(ok, { connectionString: url, rescue: { intervalMs: 500 }, scheduler: { intervalMs: 200 }, retention: { intervalMs: 100 } })).not.toThrow();
    expect(() => new Worker(ok, { connectionString: url, rescueIntervalMs: 500, schedulerIntervalMs: 200, scheduler: true })).not.toThrow();
    expect(refused(() => new Worker(ok, { connectionString: url, rescue: { intervalMs: 1 } })).field).toBe("options.rescue.intervalMs");
    expect(refused(() => new Worker(ok, { connectionString: url, scheduler: { intervalMs: 1 } })).field).toBe("options.scheduler.intervalMs");
    expect(refused(() => new Worker(ok, { connectionString: url, scheduler: "yes" as never })).message).toBe(
      'Expected `options.scheduler` to be true, false, or an object { intervalMs }, got `"yes"` (string)',
    );
    expect(refused(() => new Worker(ok, { connectionString: url, rescue: { interval: 5 } as never })).message).toContain("(did you mean `intervalMs`?)");
    expect(refused(() => new Worker(ok, { connectionString: url, scheduler: { intervalMS: 5 } as never })).message).toBe(
      "Expected the keys of `options.scheduler` to be one of `intervalMs`, got unknown `intervalMS` (did you mean `intervalMs`?)",
    );
    const both = refused(() => new Worker(ok, { connectionString: url, rescue: { intervalMs: 500 }, rescueIntervalMs: 500 }));
    expect(both.field).toBe("options.rescueIntervalMs");
    expect(both.message).toContain("either `rescue.intervalMs` or the older `rescueIntervalMs`, not both");
    expect(refused(() => new Worker(ok, { connectionString: url, scheduler: { intervalMs: 500 }, schedulerIntervalMs: 500 })).field).toBe(
      "options.schedulerIntervalMs",
    );
  });

  it("refuses heartbeatIntervalMs at or over leaseMs, naming heartbeatIntervalMs", () => {
    for (const [leaseMs, heartbeatIntervalMs] of [[5000, 5000], [5000, 9000], [undefined, 30_000]] as const) {
      const error = refused(() => new Worker(ok, { connectionString: url, ...(leaseMs ? { leaseMs } : {}), heartbeatIntervalMs }));
      expect(error.field).toBe("options.heartbeatIntervalMs");
      expect(error.message).toContain("shorter than `leaseMs`");
    }
    // Just under is fine.
    expect(() => new Worker(ok, { connectionString: url, leaseMs: 5000, heartbeatIntervalMs: 4999 })).not.toThrow();
  });

  it.each([
    ["leaseMs", 999],
    ["heartbeatIntervalMs", 10],
    ["pollIntervalMs", 0],
    ["timeoutMs", 0],
    ["shutdownTimeoutMs", -1],
    ["rescueIntervalMs", 1.5],
    ["poolSize", 1],
    ["listen", "yes"],
    ["handleSignals", 1],
    ["workerId", ""],
    ["logger", { info: () => {} }],
    ["schemas", { t: { parse: () => 1 } }],
    ["backoff", { baseMs: -1 }],
    ["backoff", { jitter: 2 }],
    ["backoff", { factor: 0.5 }],
    ["backoff", { delay: 5 }],
  ])("refuses %s %j", (field, value) => {
    const error = refused(() => new Worker(ok, { connectionString: url, [field]: value } as any));
    expect(error.field.startsWith(`options.${field}`)).toBe(true);
  });

  it("refuses a per-type backoff, timeout or schema that is not one", () => {
    expect(refused(() => new Worker({ t: { handler: async () => 1, timeoutMs: 0 } }, { connectionString: url })).field).toBe("handlers.t.timeoutMs");
    expect(refused(() => new Worker({ t: { handler: async () => 1, backoff: { maxMs: -5 } } }, { connectionString: url })).field).toBe("handlers.t.backoff.maxMs");
    expect(refused(() => new Worker({ t: { handler: async () => 1, schema: {} as any } }, { connectionString: url })).field).toBe("handlers.t.schema");
  });

  it("refuses a hostile schema name before any SQL", () => {
    const error = refused(() => new Worker(ok, { connectionString: url, schema: 'x"; DROP TABLE jobs; --' }));
    expect(error.field).toBe("options.schema");
  });

  it("refuses a system schema", () => {
    for (const schema of ["information_schema", "pg_catalog", "pg_toast", "pg_djps"]) {
      const error = refused(() => new Worker(ok, { connectionString: url, schema }));
      expect(error.message).toBe(
        `Expected \`options.schema\` to be a schema of its own, not a system schema (\`pg_*\` or \`information_schema\`), got \`"${schema}"\` (string)`,
      );
    }
  });

  it("refuses a worker id PostgreSQL could not store or a terminal would act on", () => {
    for (const workerId of ["w\u0000x", "w\u001b[31m", "line\nbreak", "bell\u0007", "c1\u009b", "\ud800", "", "x".repeat(201)]) {
      const error = refused(() => new Worker(ok, { connectionString: url, workerId }));
      expect(error.field).toBe("options.workerId");
      expect(error.message).toMatch(/^Expected `options.workerId` to be a string of 1 to 200 printable characters/);
    }
    expect(new Worker(ok, { connectionString: url, workerId: "host-1:4242:äöü 🚀" }).id).toBe("host-1:4242:äöü 🚀");
  });

  it("stop() refuses a grace period that is not a whole number of milliseconds it can wait", async () => {
    const worker = new Worker(ok, { connectionString: url });
    for (const [options, shown] of [
      [{ timeoutMs: Number.NaN }, "`NaN` (number)"],
      [{ timeoutMs: "500" }, '`"500"` (string)'],
      [{ timeoutMs: 3e9 }, "`3000000000` (number)"],
      [{ timeoutMs: -1 }, "`-1` (number)"],
    ] as const) {
      const error = await worker.stop(options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toBe(`Expected \`options.timeoutMs\` to be an integer from 0 to 2147483647, got ${shown}`);
    }
    const error = await worker.stop(null as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe("options");
    // A refused call changes nothing: a valid one still stops the worker.
    await worker.stop({ timeoutMs: 0 });
    await worker.stop();
  });

  it("accepts good options and connects only at start()", async () => {
    const worker = new Worker(
      { t: { handler: async () => 1, timeoutMs: 1000, backoff: { baseMs: 10 }, schema: z.object({}) } },
      { connectionString: url, concurrency: 3, queues: ["a", "b.c"], leaseMs: 2000, heartbeatIntervalMs: 500, pollIntervalMs: 10, listen: false },
    );
    expect(worker.types).toEqual(["t"]);
    await worker.stop();
  });

  it("refuses a pool of one connection while listening (LISTEN would hold it and no claim could run)", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const error = refused(() => new Worker(ok, { pool }));
      expect(error.field).toBe("options.pool");
      expect(error.message).toContain("at least 2 connections");
      expect(() => new Worker(ok, { pool, listen: false })).not.toThrow();
      const two = new pg.Pool({ connectionString: url, max: 2 });
      expect(() => new Worker(ok, { pool: two })).not.toThrow();
      await two.end();
    } finally {
      await pool.end();
    }
  });

  it("needs a database: without connectionString, pool or DATABASE_URL it is a ConfigError", () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      expect(() => new Worker(ok)).toThrow(ConfigError);
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });
});
