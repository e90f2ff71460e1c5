import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, migrate, Queue, Worker } from "../src/index.js";
import { applyMigrations, MIGRATIONS_DIR } from "../src/migrate.js";
import { SCHEMA_VERSION } from "../src/schema-version.js";
import { databaseUrl, MIGRATION_FILES, uniqueSchema } from "./support/db.js";

// A Worker or Queue checks the schema's applied version before it works:
// older than the code needs, or newer and marked breaking, is a ConfigError
// that says what to do, not a loop of failing statements.

let admin: pg.Pool;
const schemas: string[] = [];
const closers: Array<() => Promise<void>> = [];

beforeAll(() => {
  admin = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});
afterAll(async () => {
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

/** A schema migrated through the first `version` migration files only. */
async function schemaAt(version: number): Promise<string> {
  const schema = uniqueSchema("ver");
  schemas.push(schema);
  const dir = await mkdtemp(join(tmpdir(), "djps-migrations-"));
  try {
    for (const file of MIGRATION_FILES.slice(0, version)) await copyFile(join(MIGRATIONS_DIR, file), join(dir, file));
    await applyMigrations({ connectionString: databaseUrl(), schema }, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return schema;
}

function worker(schema: string): Worker {
  const w = new Worker({ t: async () => "ok" }, { connectionString: databaseUrl(), schema, scheduler: false });
  closers.push(() => w.stop({ timeoutMs: 0 }));
  return w;
}

function queue(schema: string): Queue {
  const q = new Queue({ connectionString: databaseUrl(), schema });
  closers.push(() => q.close());
  return q;
}

describe("the schema version", () => {
  it("is the number of the newest migration the package ships", () => {
    expect(SCHEMA_VERSION).toBe(MIGRATION_FILES.length);
    expect(parseInt(MIGRATION_FILES.at(-1)!, 10)).toBe(SCHEMA_VERSION);
  });

  for (const version of [2, 4]) {
    it(`refuses a schema at version ${version} with what to run, and works once it is migrated`, async () => {
      const schema = await schemaAt(version);
      const expected = `Schema \`${schema}\` is at version ${version}, this djps needs ${SCHEMA_VERSION}: run \`npx djps migrate --schema ${schema}\``;
      const w = worker(schema);
      await expect(w.start()).rejects.toThrow(ConfigError);
      await expect(w.start()).rejects.toThrow(expected);
      const q = queue(schema);
      await expect(q.enqueue("t", 1)).rejects.toThrow(expected);
      await expect(q.getJob("01a22f1b-ac32-7216-907f-13c2c90c24cd")).rejects.toThrow(ConfigError);
      // Nothing was written meanwhile.
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`);
      expect(rows[0].n).toBe(0);

      await migrate({ connectionString: databaseUrl(), schema });
      // The same instances work now: a refusal is not remembered.
      const { job } = await q.enqueue("t", 1);
      await w.start();
      await expect.poll(async () => (await q.getJob(job.id))?.status, { timeout: 20_000 }).toBe("succeeded");
    });
  }

  it("refuses a schema that was never migrated", async () => {
    const schema = uniqueSchema("ver");
    await expect(worker(schema).start()).rejects.toThrow(`Schema \`${schema}\` has no jobs table: run \`npx djps migrate --schema ${schema}\` first`);
    await expect(queue(schema).enqueue("t", 1)).rejects.toThrow(ConfigError);
  });

  it("refuses a newer schema whose later migration is breaking, and accepts one whose later migrations are not", async () => {
    const schema = await schemaAt(SCHEMA_VERSION);
    const later = SCHEMA_VERSION + 94;
    await admin.query(`INSERT INTO "${schema}".migrations (id, name, hash) VALUES ($1, 'from-the-future', 'x')`, [later]);
    await admin.query(`INSERT INTO "${schema}".schema_versions (version, breaking) VALUES ($1, true)`, [later]);
    await expect(worker(schema).start()).rejects.toThrow(
      `Schema \`${schema}\` is at version ${later}, newer than this djps knows (${SCHEMA_VERSION}), and version ${later} cannot be used by older code: upgrade djps`,
    );
    await expect(queue(schema).enqueue("t", 1)).rejects.toThrow(/upgrade djps/);

    await admin.query(`UPDATE "${schema}".schema_versions SET breaking = false WHERE version = $1`, [later]);
    await worker(schema).start();
    const { job } = await queue(schema).enqueue("t", 1);
    expect(job.status).toBe("queued");
  });
});
