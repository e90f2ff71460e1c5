import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, migrate, MigrationError, ValidationError } from "../src/index.js";
import { databaseUrl, MIGRATION_FILES, SCHEMA_TABLES, uniqueSchema } from "./support/db.js";

const created: string[] = [];
const admin = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
afterAll(async () => {
  for (const s of created) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
});
const fresh = () => {
  const s = uniqueSchema("m");
  created.push(s);
  return s;
};

describe("migrate", () => {
  it("creates the schema on a fresh database, then is a no-op", async () => {
    const schema = fresh();
    const lines: string[] = [];
    const first = await migrate({ connectionString: databaseUrl(), schema, log: (l) => lines.push(l) });
    expect(first).toEqual({ schema, applied: MIGRATION_FILES });
    expect(lines).toEqual(MIGRATION_FILES.map((f) => `applied ${f} to schema ${schema}`));
    const { rows } = await admin.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
      [schema],
    );
    expect(rows.map((r) => r.table_name)).toEqual(SCHEMA_TABLES);

    const second = await migrate({ connectionString: databaseUrl(), schema, log: (l) => lines.push(l) });
    expect(second.applied).toEqual([]);
    expect(lines.at(-1)).toBe(`schema ${schema} is up to date`);
  });

  it("is safe when five migrators race on one schema", async () => {
    const schema = fresh();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => migrate({ connectionString: databaseUrl(), schema })),
    );
    expect(results.filter((r) => r.applied.length === MIGRATION_FILES.length)).toHaveLength(1);
    expect(results.filter((r) => r.applied.length === 0)).toHaveLength(4);
    const { rows } = await admin.query(`SELECT id FROM "${schema}".migrations ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual([0, ...MIGRATION_FILES.map((f) => parseInt(f, 10))]);
  });

  it("works when another schema already has a `migrations` table", async () => {
    const other = fresh();
    await admin.query(`CREATE SCHEMA "${other}"; CREATE TABLE "${other}".migrations (x int)`);
    await admin.query(`CREATE TABLE IF NOT EXISTS public.migrations (x int)`);
    try {
      const schema = fresh();
      const result = await migrate({ connectionString: databaseUrl(), schema });
      expect(result.applied).toEqual(MIGRATION_FILES);
    } finally {
      await admin.query("DROP TABLE IF EXISTS public.migrations");
    }
  });

  it.each([
    ['x"; DROP TABLE jobs; --'],
    ["Upper"],
    ["1abc"],
    [""],
    ["a".repeat(41)],
    ["djps.jobs"],
  ])("refuses the hostile or odd schema name %j before connecting", async (schema) => {
    const error = await migrate({ connectionString: "postgres://nobody@127.0.0.1:1/none", schema }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe("options.schema");
    expect(error.message).toMatch(/^Expected `options.schema` to be a plain lower-case identifier/);
  });

  it("refuses a system schema before it connects, and leaves it untouched", async () => {
    for (const schema of ["information_schema", "pg_catalog", "pg_temp_1"]) {
      const error = await migrate({ connectionString: databaseUrl(), schema }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe("options.schema");
      expect((error as ValidationError).message).toMatch(/not a system schema/);
    }
    const admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
    try {
      const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'information_schema' AND tablename = 'jobs'");
      expect(rows[0].n).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it("needs a database", async () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await expect(migrate({})).rejects.toBeInstanceOf(ConfigError);
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });

  it("explains an unreachable database in one line", async () => {
    const error = await migrate({ connectionString: "postgres://x:y@127.0.0.1:1/db" }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toMatch(/^Cannot reach the database: connection refused/);
    expect(error.message).not.toContain("\n");
  });

  it("explains a wrong password in one line", async () => {
    const url = new URL(databaseUrl());
    url.password = "definitely-wrong";
    const error = await migrate({ connectionString: url.toString() }).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toMatch(/^The database refused the credentials: password authentication failed/);
  });

  it("explains missing privileges in one line", async () => {
    const role = `r_${uniqueSchema("p")}`;
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    await admin.query(`REVOKE CREATE ON DATABASE postgres FROM PUBLIC`);
    try {
      const url = new URL(databaseUrl());
      url.username = role;
      url.password = "pw";
      const error = await migrate({ connectionString: url.toString(), schema: fresh() }).catch((e) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error.message).toMatch(/Missing privileges: permission denied for database/);
      expect(error.message).not.toContain("\n");
    } finally {
      await admin.query(`DROP ROLE ${role}`);
    }
  });
});
