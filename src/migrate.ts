import { fileURLToPath } from "node:url";
import pg from "pg";
import { migrate as runMigrations } from "postgres-migrations";
import { connectionStringFrom, describeDatabaseError } from "./db.js";
import { coerceError, MigrationError } from "./errors.js";
import { DEFAULT_SCHEMA, migrateOptionsSchema, type MigrateOptions } from "./options.js";
import { lockKey } from "./sql/lockKey.js";
import { schemaCreate, schemaMigrateLock, schemaMigrationsTableCreate, schemaSearchPath } from "./sql/schemaMigrate.js";
import { parse } from "./validate.js";

export type { MigrateOptions };

/** What a migration run did. */
export interface MigrateResult {
  /** The schema that was migrated. */
  schema: string;
  /** Names of the migrations applied by this run; empty when the schema was up to date. */
  applied: string[];
}

/** Where the numbered .sql files live: beside `dist/` in the package, beside `src/` in the repo. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

/**
 * Creates or upgrades the djps schema. Safe to run from several processes at
 * once (they queue on an advisory lock; the later ones find nothing to do) and
 * a no-op when the schema is up to date. Each migration runs in its own
 * transaction. The same as `npx djps migrate`; run it as a role that may
 * create the schema, then {@link grant} a runtime role what it needs.
 *
 * @param options `connectionString` (default `DATABASE_URL`), `schema`
 *   (default `"djps"`), and `log`, called with each line of progress.
 * @returns The schema and the names of the migrations this run applied.
 * @throws {@link ValidationError} for invalid options.
 * @throws {@link ConfigError} when no connection string is given and `DATABASE_URL` is unset.
 * @throws {@link MigrationError} when the database cannot be reached, refuses
 *   the credentials or privileges, or a migration fails (its transaction is
 *   rolled back).
 *
 * @example
 * import { migrate } from "djps";
 *
 * const { applied } = await migrate({ connectionString: process.env.DATABASE_URL, log: console.log });
 * // applied: ["1_init.sql", ...] the first time, [] once up to date
 */
export async function migrate(options: MigrateOptions = {}): Promise<MigrateResult> {
  return applyMigrations(options, MIGRATIONS_DIR);
}

/**
 * `migrate()` from a folder of migration files: the shipped one, or (in
 * tests) a folder holding only the first few, to make an older schema.
 */
export async function applyMigrations(options: MigrateOptions, directory: string): Promise<MigrateResult> {
  const opts = parse(migrateOptionsSchema, options, "options");
  const schema = opts.schema ?? DEFAULT_SCHEMA;
  const connectionString = connectionStringFrom(
    opts.connectionString,
    "No database to migrate: pass `connectionString` or set the DATABASE_URL environment variable",
  );
  const log = opts.log ?? (() => {});
  const client = new pg.Client({ connectionString, application_name: "djps migrate" });
  // A connection lost mid-run surfaces through the failing query; don't crash the host.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new MigrationError(describeDatabaseError(coerceError(error)), { cause: error });
  }
  try {
    // Serialise migrators of this schema before touching anything, then give
    // postgres-migrations its bookkeeping table inside our schema (its own
    // existence check ignores the schema and would find another one).
    await client.query(schemaMigrateLock, [lockKey(`djps:migrate:${schema}`)]);
    await client.query(schemaCreate(schema));
    await client.query(schemaSearchPath(schema));
    await client.query(schemaMigrationsTableCreate);
    const done = await runMigrations({ client }, directory, { logger: () => {} });
    const applied = done.filter((m) => m.id > 0).map((m) => m.fileName);
    for (const name of applied) log(`applied ${name} to schema ${schema}`);
    if (applied.length === 0) log(`schema ${schema} is up to date`);
    return { schema, applied };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    throw new MigrationError(`Migrating schema \`${schema}\` failed: ${describeDatabaseError(coerceError(cause))}`, { cause: error });
  } finally {
    await client.end().catch(() => {});
  }
}
