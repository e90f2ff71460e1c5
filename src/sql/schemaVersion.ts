import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * The applied schema version (the highest id in postgres-migrations'
 * `migrations`) and, among the versions above $1 (the code's own), those
 * marked breaking in `schema_versions`: everything a Worker start or a
 * Queue's first call needs, in one round trip.
 *
 * It names `schema_versions`, which exists from version 5 on, so on a schema
 * older than that (or never migrated) it fails with undefined_table. That is
 * only ever the refusal path, where `migrationLatest` tells the two apart; a
 * guard with to_regclass would cost every healthy start a second statement,
 * since a missing table fails a statement while it is parsed.
 *
 * One row: { version: number | null, breaking: number[] }.
 */
export const schemaVersion = (schema: string): Statement =>
  statement(
    schema,
    "schemaVersion",
    `SELECT (SELECT max(id) FROM ${quoteIdent(schema)}.migrations)::int AS version,
  ARRAY(SELECT version FROM ${quoteIdent(schema)}.schema_versions WHERE version > $1 AND breaking ORDER BY version) AS breaking`,
  );
