/** Statements the migrator runs around postgres-migrations. */

/** A 32-bit advisory lock key for migrating one schema (other schemas migrate in parallel). */
export function schemaLockKey(schema: string): number {
  let hash = 0x811c9dc5;
  for (const char of `djps:migrate:${schema}`) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** postgres-migrations' bookkeeping table, created in our schema before it looks for one. */
export const schemaMigrationsTableCreate = `CREATE TABLE IF NOT EXISTS migrations (
  id integer PRIMARY KEY,
  name varchar(100) UNIQUE NOT NULL,
  hash varchar(40) NOT NULL,
  executed_at timestamp DEFAULT current_timestamp
)`;
