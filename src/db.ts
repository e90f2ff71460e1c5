import pg from "pg";
import { ConfigError, DatabaseError } from "./errors.js";
import { rowTypes } from "./timestamp.js";

/**
 * Anything that can run a parameterised statement: a `pg.Pool`, a
 * `pg.PoolClient` inside the host's transaction, or a wrapper from another
 * driver or ORM with the same shape.
 */
export interface Executor {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount?: number | null }>;
}

/** A statement with a fixed name (prepared once per connection) and its text. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** The PostgreSQL SQLSTATE codes djps reacts to. */
export const SqlState = {
  uniqueViolation: "23505",
  insufficientPrivilege: "42501",
  invalidPassword: "28P01",
  invalidAuthorization: "28000",
  invalidCatalogName: "3D000",
  undefinedTable: "42P01",
  adminShutdown: "57P01",
  crashShutdown: "57P02",
  cannotConnectNow: "57P03",
} as const;

/** Where a Queue or Worker gets its connections. */
export interface ConnectionOptions {
  /** A PostgreSQL connection string. Defaults to `process.env.DATABASE_URL`. */
  connectionString?: string | undefined;
  /** An existing pool to use instead. djps never ends a pool it did not create. */
  pool?: pg.Pool | undefined;
}

/** A pool and whether djps owns it (and so must end it). */
export interface PoolHandle {
  readonly pool: pg.Pool;
  readonly owned: boolean;
  /** The connection string djps used, when it made the pool (workers open a LISTEN client from it). */
  readonly connectionString: string | undefined;
}

/** Resolves connection options to a pool, falling back to `DATABASE_URL`. */
export function openPool(options: ConnectionOptions, poolSize: number, applicationName: string): PoolHandle {
  if (options.pool) return { pool: options.pool, owned: false, connectionString: options.connectionString };
  const connectionString = options.connectionString ?? process.env.DATABASE_URL;
  if (!connectionString) {
    throw new ConfigError(
      "No database to connect to: pass `connectionString` or `pool`, or set the DATABASE_URL environment variable",
    );
  }
  const pool = new pg.Pool({ connectionString, max: poolSize, application_name: applicationName });
  // An idle client that loses its connection emits 'error' on the pool; without a
  // listener Node would crash the host process. The next query reconnects.
  pool.on("error", () => {});
  return { pool, owned: true, connectionString };
}

/**
 * Runs a statement. On a pool it goes as a named prepared statement (planned
 * once per connection, its timestamps read by the fast parser in
 * timestamp.ts); on a caller's client it goes as plain text, since we cannot
 * know what that client supports.
 */
export async function run(executor: Executor, statement: Statement, values: unknown[], prepared: boolean): Promise<any[]> {
  try {
    const result = prepared
      ? await (executor as pg.Pool).query({ name: statement.name, text: statement.text, values, types: rowTypes })
      : await executor.query(statement.text, values);
    return result.rows;
  } catch (error) {
    throw toDatabaseError(error);
  }
}

/** Wraps a driver error in a `DatabaseError` with a one-line message, keeping the cause. */
export function toDatabaseError(error: unknown): DatabaseError | Error {
  if (error instanceof DatabaseError) return error;
  const e = error as { code?: string; message?: string };
  if (e && typeof e === "object" && typeof e.message === "string") {
    return new DatabaseError(describeDatabaseError(e), e.code, { cause: error });
  }
  return error as Error;
}

/** A one-line, human explanation of a connection or server error. */
export function describeDatabaseError(error: { code?: string; message?: string }): string {
  const message = (error.message ?? String(error)).split("\n")[0] ?? "";
  switch (error.code) {
    case "ECONNREFUSED":
      return `Cannot reach the database: connection refused (${message.replace(/^connect /, "")})`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `Cannot reach the database: host not found (${message})`;
    case "ETIMEDOUT":
      return `Cannot reach the database: connection timed out (${message})`;
    case SqlState.invalidPassword:
    case SqlState.invalidAuthorization:
      return `The database refused the credentials: ${message}`;
    case SqlState.invalidCatalogName:
      return `The database does not exist: ${message}`;
    case SqlState.insufficientPrivilege:
      return `Missing privileges: ${message}`;
    case SqlState.undefinedTable:
      return `${message} (is the schema migrated? run \`djps migrate\`)`;
    default:
      return message || "Unknown database error";
  }
}

/** Builds a statement whose prepared name carries the schema, so two schemas never share a plan. */
export function statement(schema: string, name: string, text: string): Statement {
  return { name: `djps_${schema}_${name}`, text };
}
