import type pg from "pg";
import { runner, SqlState, type Run } from "./db.js";
import { ConfigError, DatabaseError } from "./errors.js";
import { DEFAULT_SCHEMA } from "./options.js";
import { migrationLatest } from "./sql/migrationLatest.js";
import { schemaVersion } from "./sql/schemaVersion.js";

/**
 * The schema version this code was written for: the number of the newest
 * file in `migrations/`. A Worker or Queue refuses a schema at an older
 * version (its statements need what later migrations add), and a newer one
 * when a version beyond this is recorded as breaking in `schema_versions`.
 */
export const SCHEMA_VERSION = 14;

/** `flag value` when the schema is not the default, for the commands in messages. */
function schemaFlag(schema: string): string {
  return schema === DEFAULT_SCHEMA ? "" : ` --schema ${schema}`;
}

/**
 * Reads the schema's applied version and throws a `ConfigError` that says
 * what to do when this code cannot run against it. One statement when the
 * schema is usable, once per Worker start and per Queue.
 */
export async function assertSchemaVersion(pool: pg.Pool, schema: string): Promise<void> {
  const { version, breaking } = await readVersion(pool, schema);
  const migrate = `npx djps migrate${schemaFlag(schema)}`;
  if (version === 0) {
    throw new ConfigError(`Schema \`${schema}\` has no jobs table: run \`${migrate}\` first`);
  }
  if (version < SCHEMA_VERSION) {
    throw new ConfigError(`Schema \`${schema}\` is at version ${version}, this djps needs ${SCHEMA_VERSION}: run \`${migrate}\``);
  }
  if (breaking.length > 0) {
    throw new ConfigError(
      `Schema \`${schema}\` is at version ${version}, newer than this djps knows (${SCHEMA_VERSION}), and version ${breaking.join(", ")} ` +
        `cannot be used by older code: upgrade djps`,
    );
  }
}

/**
 * `run`, checking the schema version before the first statement goes out (a
 * Queue's calls on its own pool). A failed check is not kept: the next
 * statement checks again, so a call after `npx djps migrate` succeeds.
 */
export function checkedFirst(run: Run, pool: pg.Pool, schema: string): Run {
  let checked: Promise<void> | undefined;
  return async (statement, values) => {
    checked ??= assertSchemaVersion(pool, schema).catch((error: unknown) => {
      checked = undefined;
      throw error;
    });
    await checked;
    return run(statement, values);
  };
}

/** The applied version (0 when never migrated) and the breaking versions beyond the code's. */
async function readVersion(pool: pg.Pool, schema: string): Promise<{ version: number; breaking: number[] }> {
  // Not prepared: it runs once per instance, and a failed statement would
  // gain nothing from a name on the connection.
  const sql = { schema, run: runner(pool, false) };
  let missing: DatabaseError;
  try {
    const [row] = await schemaVersion(sql, { codeVersion: SCHEMA_VERSION });
    return { version: row?.version ?? 0, breaking: row?.breaking ?? [] };
  } catch (error) {
    if (!hasState(error, SqlState.undefinedTable)) throw explained(error, schema);
    missing = error as DatabaseError;
  }
  // No schema_versions: older than version 5, or never migrated.
  let version = 0;
  try {
    const [row] = await migrationLatest(sql);
    version = row?.version ?? 0;
  } catch (error) {
    if (!hasState(error, SqlState.undefinedTable)) throw explained(error, schema);
  }
  // The bookkeeping says schema_versions should be there: someone removed it
  // by hand, which no message here can fix; report what the server said.
  if (version >= SCHEMA_VERSION) throw missing;
  return { version, breaking: [] };
}

function hasState(error: unknown, state: string): boolean {
  return error instanceof DatabaseError && error.sqlState === state;
}

/**
 * A role that may not read the version was set up by hand, or by `grant()`
 * of a djps that did not check versions yet: say what grants it.
 */
function explained(error: unknown, schema: string): unknown {
  if (!hasState(error, SqlState.insufficientPrivilege)) return error;
  const server = ((error as DatabaseError).cause as { message?: string } | undefined)?.message ?? (error as DatabaseError).message;
  return new ConfigError(
    `This role cannot read the version of schema \`${schema}\` (${server}): as the schema's owner, ` +
      `run \`npx djps grant --role <this role>${schemaFlag(schema)}\``,
    { cause: error },
  );
}
