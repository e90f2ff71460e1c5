import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * Which of djps's tables the schema has: `jobs` (it was migrated at all),
 * `migrations` (the migrator's bookkeeping, whose highest id is the applied
 * version) and `schema_versions` (from version 5: which versions are breaking).
 * One row of regclass-or-null; it cannot fail on a missing table.
 */
export const schemaCheck = (schema: string): Statement =>
  statement(
    schema,
    "schemaCheck",
    `SELECT to_regclass('${quoteIdent(schema)}.jobs') AS jobs,
  to_regclass('${quoteIdent(schema)}.migrations') AS migrations,
  to_regclass('${quoteIdent(schema)}.schema_versions') AS versions`,
  );

/** The applied schema version: the highest migration id. One row: { version: number | null }. */
export const schemaVersion = (schema: string): Statement =>
  statement(schema, "schemaVersion", `SELECT max(id)::int AS version FROM ${quoteIdent(schema)}.migrations`);

/** Applied versions above $1 marked breaking for code that knows only up to $1. */
export const schemaBreaking = (schema: string): Statement =>
  statement(
    schema,
    "schemaBreaking",
    `SELECT version FROM ${quoteIdent(schema)}.schema_versions WHERE version > $1 AND breaking ORDER BY version`,
  );
