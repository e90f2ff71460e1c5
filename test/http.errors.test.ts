import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseError, InvalidStateError, JobNotFoundError, Queue, ValidationError } from "../src/index.js";
import { errorResponse } from "../src/http/errors.js";
import { applyMigrations, MIGRATIONS_DIR } from "../src/migrate.js";
import { SCHEMA_VERSION } from "../src/schema-version.js";
import { databaseUrl, MIGRATION_FILES, uniqueSchema } from "./support/db.js";
import { call, startApi, type ApiServer } from "./support/http.js";

// Every error maps to a status and one shape; nothing unexpected leaks its
// message. And a database whose schema is behind answers 503, health included.

describe("errorResponse", () => {
  it("maps the library's errors and the database's to statuses", () => {
    const cases: Array<[unknown, number, string]> = [
      [new ValidationError("options.priority", "Expected `options.priority` to be ..."), 400, "VALIDATION"],
      [new JobNotFoundError("x"), 404, "NOT_FOUND"],
      [new InvalidStateError("x", "running", "cancel", ["queued"]), 409, "INVALID_STATE"],
      [new DatabaseError("Cannot reach the database: connection refused", "ECONNREFUSED"), 503, "UNAVAILABLE"],
      [new DatabaseError("terminating connection due to administrator command", "57P01"), 503, "UNAVAILABLE"],
      [new DatabaseError("canceling statement due to statement timeout", "57014"), 503, "UNAVAILABLE"],
      [new DatabaseError("sorry, too many clients already", "53300"), 503, "UNAVAILABLE"],
      [new DatabaseError("deadlock detected", "40P01"), 503, "UNAVAILABLE"],
      [new DatabaseError("cannot execute INSERT in a read-only transaction", "25006"), 503, "UNAVAILABLE"],
      [new Error("Connection terminated unexpectedly"), 503, "UNAVAILABLE"],
      [new DatabaseError('relation "djps.api_keys" does not exist', "42P01"), 503, "UNAVAILABLE"],
      [new DatabaseError('duplicate key value violates unique constraint "x" SELECT secret', "23505"), 500, "INTERNAL"],
      [new TypeError("Cannot read properties of undefined (reading 'x') at /app/src/thing.ts:12"), 500, "INTERNAL"],
      ["a string", 500, "INTERNAL"],
      [null, 500, "INTERNAL"],
    ];
    for (const [error, status, code] of cases) {
      const answer = errorResponse(error);
      expect(answer.status, String(error)).toBe(status);
      expect(answer.body.error.code).toBe(code);
      if (status === 500) {
        expect(answer.body.error.message).toBe("Internal error");
        expect(answer.expected).toBe(false);
      }
    }
    expect(errorResponse(new ValidationError("options.priority", "m")).body.error.field).toBe("options.priority");
  });
});

describe("unexpected errors", () => {
  it("answer 500 with no details, reach onError, and survive an onError that throws", async () => {
    const queue = new Queue({ connectionString: databaseUrl() });
    // A Queue whose stats() fails in a way nobody planned for.
    const broken = {
      pool: queue.pool,
      schema: queue.schema,
      maxPayloadBytes: queue.maxPayloadBytes,
      enqueue: queue.enqueue.bind(queue),
      getJob: queue.getJob.bind(queue),
      stats: async () => Promise.reject(new TypeError("secret detail at /app/x.ts:1")),
    } as unknown as Queue;
    const seen: unknown[] = [];
    const api = await startApi(broken, {
      auth: false,
      onError: (e) => {
        seen.push(e);
        throw new Error("the hook fails too");
      },
    });
    try {
      const r = await call(api.url, "GET", "/stats");
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: { code: "INTERNAL", message: "Internal error" } });
      expect(seen).toHaveLength(1);
      expect((await call(api.url, "GET", "/stats")).status).toBe(500);
    } finally {
      await api.close();
      await queue.close();
    }
  });
});

describe("a schema behind this code", () => {
  const schema = uniqueSchema("http_old");
  const admin = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
  let queue: Queue;
  let api: ApiServer;

  beforeAll(async () => {
    // Migrated up to, not including, the migration that adds api_keys.
    const before = MIGRATION_FILES.findIndex((f) => f.endsWith("_api_keys.sql"));
    expect(before).toBeGreaterThan(0);
    const dir = await mkdtemp(join(tmpdir(), "djps-migrations-"));
    try {
      for (const file of MIGRATION_FILES.slice(0, before)) await copyFile(join(MIGRATIONS_DIR, file), join(dir, file));
      await applyMigrations({ connectionString: databaseUrl(), schema }, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    queue = new Queue({ connectionString: databaseUrl(), schema });
    api = await startApi(queue);
  });
  afterAll(async () => {
    await api.close();
    await queue.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("answers 503 saying the schema is not current, on /health and on keyed requests", async () => {
    const health = await call(api.url, "GET", "/health");
    expect(health.status).toBe(503);
    expect(health.body.error.message).toBe("The database schema is not at the version this server needs");
    const keyed = await call(api.url, "GET", "/stats", { key: `djps_${"a".repeat(43)}` });
    expect(keyed.status).toBe(503);
    expect(keyed.body.error.message).toContain("run `djps migrate`");
    expect(api.unexpected).toEqual([]);
  });

  it("answers 503 from the Queue's own version check when keys are off", async () => {
    const open = await startApi(queue, { auth: false });
    try {
      const r = await call(open.url, "GET", "/stats");
      expect(r.status).toBe(503);
      expect(r.body.error.message).toContain(`this djps needs ${SCHEMA_VERSION}`);
    } finally {
      await open.close();
    }
  });
});
