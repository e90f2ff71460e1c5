import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import pg from "pg";
import { inject } from "vitest";
import { migrate } from "../../src/index.js";

/** The test server's connection string. */
export const databaseUrl = (): string => inject("databaseUrl");

/** The migration files in the order they apply, as `migrate()` reports them. */
export const MIGRATION_FILES: string[] = readdirSync(new URL("../../migrations", import.meta.url))
  .filter((f) => f.endsWith(".sql"))
  .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));

/** The tables a migrated schema holds, in name order. */
export const SCHEMA_TABLES = ["api_keys", "jobs", "migrations", "queues", "schedules", "schema_versions", "workers"];

/** What `djps migrate` prints for a fresh schema. */
export const appliedLines = (schema: string): string =>
  MIGRATION_FILES.map((f) => `applied ${f} to schema ${schema}\n`).join("");

/** A fresh schema name, unique to this run, so test files never share tables. */
export function uniqueSchema(prefix = "t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** A migrated schema and a pool for direct SQL in assertions. */
export interface TestSchema {
  schema: string;
  url: string;
  pool: pg.Pool;
  /** Drops the schema and ends the pool. */
  drop(): Promise<void>;
}

/** How many jobs of the schema match a WHERE clause (`values` are its parameters). */
export async function countJobs(db: Pick<TestSchema, "pool" | "schema">, where: string, values: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE ${where}`, values);
  return rows[0].n;
}

/** Creates and migrates a schema of its own for a test file. */
export async function migratedSchema(prefix?: string): Promise<TestSchema> {
  const url = databaseUrl();
  const schema = uniqueSchema(prefix);
  await migrate({ connectionString: url, schema });
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  return {
    schema,
    url,
    pool,
    drop: async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

/** Waits until `check` returns a truthy value, polling; fails with `what` after the deadline. */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** Waits for a promise, failing with `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
