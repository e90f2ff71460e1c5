import { query } from "./query.js";

/**
 * The highest migration id applied, read only when `schemaVersion` found no
 * `schema_versions` table: it tells a schema older than version 5 (a number)
 * from one never migrated (no row, a null, or undefined_table when the
 * bookkeeping itself is missing).
 */
export const migrationLatest = query<void, { version: number | null }>(
  "migrationLatest",
  (s) => `SELECT max(id)::int AS version FROM ${s}.migrations`,
  () => [],
);
