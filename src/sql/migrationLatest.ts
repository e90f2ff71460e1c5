import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * The highest migration id applied, read only when `schemaVersion` found no
 * `schema_versions` table: it tells a schema older than version 5 (a number)
 * from one never migrated (no row, a null, or undefined_table when the
 * bookkeeping itself is missing).
 *
 * One row: { version: number | null }.
 */
export const migrationLatest = (schema: string): Statement =>
  statement(schema, "migrationLatest", `SELECT max(id)::int AS version FROM ${quoteIdent(schema)}.migrations`);
