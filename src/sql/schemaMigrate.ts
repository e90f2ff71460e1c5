/** Statements the migrator runs around postgres-migrations. */

/** postgres-migrations' bookkeeping table, created in our schema before it looks for one. */
export const schemaMigrationsTableCreate = `CREATE TABLE IF NOT EXISTS migrations (
  id integer PRIMARY KEY,
  name varchar(100) UNIQUE NOT NULL,
  hash varchar(40) NOT NULL,
  executed_at timestamp DEFAULT current_timestamp
)`;
