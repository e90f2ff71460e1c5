import { quoteIdent } from "./ident.js";

/** The tables Queue, Worker and the HTTP API read and write (not the migrations bookkeeping). */
export const RUNTIME_TABLES = ["jobs", "queues", "schedules", "api_keys", "workers"] as const;

/** The bookkeeping Queue and Worker only read, to check the schema version. */
export const VERSION_TABLES = ["migrations", "schema_versions"] as const;

/**
 * What a runtime role needs to run Queue and Worker, and nothing more: use the
 * schema, read and write the runtime tables (DELETE too: retention prunes
 * finished jobs), call the schema's functions, and read (only read) the
 * migrations bookkeeping to check the schema version. No DDL, no TRUNCATE, no
 * ownership: such a role cannot drop or alter djps's tables, and it cannot
 * change the migrations bookkeeping.
 */
export function schemaGrant(schema: string, role: string): string[] {
  const s = quoteIdent(schema);
  const r = quoteIdent(role);
  return [
    `GRANT USAGE ON SCHEMA ${s} TO ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${RUNTIME_TABLES.map((t) => `${s}.${quoteIdent(t)}`).join(", ")} TO ${r}`,
    `GRANT SELECT ON ${VERSION_TABLES.map((t) => `${s}.${quoteIdent(t)}`).join(", ")} TO ${r}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${r}`,
  ];
}
