import { query } from "./query.js";

/**
 * The applied schema version (the highest id in postgres-migrations'
 * `migrations`) and, among the versions above `codeVersion`, those marked
 * breaking in `schema_versions`: everything a Worker start or a Queue's first
 * call needs, in one round trip.
 *
 * It names `schema_versions`, which exists from version 5 on, so on a schema
 * older than that (or never migrated) it fails with undefined_table. That is
 * only ever the refusal path, where `migrationLatest` tells the two apart; a
 * guard with to_regclass would cost every healthy start a second statement,
 * since a missing table fails a statement while it is parsed.
 */
export const schemaVersion = query<{ codeVersion: number }, { version: number | null; breaking: number[] }>(
  "schemaVersion",
  (s) => `SELECT (SELECT max(id) FROM ${s}.migrations)::int AS version,
  ARRAY(SELECT version FROM ${s}.schema_versions WHERE version > $1 AND breaking ORDER BY version) AS breaking`,
  (p) => [p.codeVersion],
);
