import type pg from "pg";
import { run } from "./db.js";
import { ConfigError } from "./errors.js";
import { DEFAULT_SCHEMA } from "./options.js";
import { schemaBreaking, schemaCheck, schemaVersion } from "./sql/schemaCheck.js";

/**
 * The schema version this code was written for: the number of the newest
 * file in `migrations/`. A Worker or Queue refuses a schema at an older
 * version (its statements need what later migrations add), and a newer one
 * when a version beyond this is recorded as breaking in `schema_versions`.
 */
export const SCHEMA_VERSION = 5;

/** What to run to migrate this schema, for messages. */
function migrateCommand(schema: string): string {
  return schema === DEFAULT_SCHEMA ? "npx djps migrate" : `npx djps migrate --schema ${schema}`;
}

/**
 * Reads the schema's applied version and throws a `ConfigError` that says
 * what to do when this code cannot run against it. Two or three short reads,
 * once per Worker start and per Queue.
 */
export async function assertSchemaVersion(pool: pg.Pool, schema: string): Promise<void> {
  const [tables] = await run(pool, schemaCheck(schema), [], true);
  if (!tables?.jobs || !tables.migrations) {
    throw new ConfigError(`Schema \`${schema}\` has no jobs table: run \`${migrateCommand(schema)}\` first`);
  }
  const [row] = await run(pool, schemaVersion(schema), [], true);
  const version = (row?.version as number | null) ?? 0;
  if (version < SCHEMA_VERSION) {
    throw new ConfigError(
      `Schema \`${schema}\` is at version ${version}, this djps needs ${SCHEMA_VERSION}: run \`${migrateCommand(schema)}\``,
    );
  }
  if (version > SCHEMA_VERSION) {
    const breaking = tables.versions ? (await run(pool, schemaBreaking(schema), [SCHEMA_VERSION], true)).map((r) => r.version as number) : [];
    if (breaking.length > 0) {
      throw new ConfigError(
        `Schema \`${schema}\` is at version ${version}, newer than this djps knows (${SCHEMA_VERSION}), and version ${breaking.join(", ")} ` +
          `cannot be used by older code: upgrade djps`,
      );
    }
  }
}
