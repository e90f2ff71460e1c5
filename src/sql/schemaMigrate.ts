/** Statements the migrator runs around postgres-migrations. */
import { quoteIdent } from "./ident.js";

/** Waits for the session lock that serialises migrators of one schema. $1 lock key */
export const schemaMigrateLock = "SELECT pg_advisory_lock($1)";

/** Creates the schema if it is missing. */
export const schemaCreate = (schema: string): string => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`;

/** Makes the migrations (which name no schema) land in this one. */
export const schemaSearchPath = (schema: string): string => `SET search_path TO ${quoteIdent(schema)}`;

/** postgres-migrations' bookkeeping table, created in our schema before it looks for one. */
export const schemaMigrationsTableCreate = `CREATE TABLE IF NOT EXISTS migrations (
  id integer PRIMARY KEY,
  name varchar(100) UNIQUE NOT NULL,
  hash varchar(40) NOT NULL,
  executed_at timestamp DEFAULT current_timestamp
)`;
