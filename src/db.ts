import { createRequire } from "node:module";
import pg from "pg";
import { coerceError, ConfigError, DatabaseError } from "./errors.js";
import { rowTypes } from "./timestamp.js";

/**
 * Anything that can run a parameterised statement: a `pg.Pool`, a
 * `pg.PoolClient` inside the host's transaction, or a wrapper from another
 * driver or ORM with the same shape.
 */
export interface Executor {
  /** Runs `text` with `$1`, `$2`… bound to `values`, and resolves to the rows it returned. */
  query(
    text: string,
    values?: unknown[],
  ): Promise<{
    /** The rows the statement returned. */
    rows: unknown[];
    /** How many rows it touched, when the driver says. */
    rowCount?: number | null;
  }>;
}

/** A statement with a fixed name (prepared once per connection) and its text. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** Runs one statement and resolves to its rows. The statement layer (`src/sql/`) types them. */
export type Run = (statement: Statement, values: readonly unknown[]) => Promise<unknown[]>;

/** The PostgreSQL SQLSTATE codes djps reacts to. */
export const SqlState = {
  insufficientPrivilege: "42501",
  invalidPassword: "28P01",
  invalidAuthorization: "28000",
  invalidCatalogName: "3D000",
  undefinedTable: "42P01",
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
}

/**
 * The connection string to use: the one given, else `DATABASE_URL` (an empty
 * one counts as unset). Throws a `ConfigError` with `missing` (which says how
 * the caller could have given one) when there is none.
 */
export function connectionStringFrom(given: string | undefined, missing: string): string {
  const connectionString = given ?? (process.env.DATABASE_URL || undefined);
  if (!connectionString) throw new ConfigError(missing);
  return connectionString;
}

/** Resolves connection options to a pool, falling back to `DATABASE_URL`. */
export function openPool(options: ConnectionOptions, poolSize: number, applicationName: string): PoolHandle {
  if (options.pool) return { pool: options.pool, owned: false };
  const connectionString = connectionStringFrom(
    options.connectionString,
    "No database to connect to: pass `connectionString` or `pool`, or set the DATABASE_URL environment variable",
  );
  const pool = new pg.Pool({ connectionString, max: poolSize, application_name: applicationName });
  // An idle client that loses its connection emits 'error' on the pool; without a
  // listener Node would crash the host process. The next query reconnects.
  pool.on("error", () => {});
  return { pool, owned: true };
}

/**
 * The client class of pg's JavaScript driver. `pg.Client` is pg's native
 * client instead when NODE_PG_FORCE_NATIVE is set.
 */
const JS_CLIENT = createRequire(import.meta.url)("pg/lib/client.js") as typeof pg.Client;

/**
 * Whether a Buffer parameter reaches the server as a binary value: true for
 * clients of pg's JavaScript driver (the pools djps makes, a host's pg client
 * or a pool that makes such clients), which send Buffers in binary format.
 * Another driver, pg's native bindings among them (`NODE_PG_FORCE_NATIVE`, or
 * a pool given another `Client`), may send one as something else, so
 * statements then get plain values.
 */
export function sendsBinary(executor: Executor): boolean {
  if (executor instanceof JS_CLIENT) return true;
  // A pool of pg-pool (pg.Pool) keeps the class it makes its clients with.
  const made = (executor as { Client?: unknown }).Client;
  return typeof made === "function" && (made === JS_CLIENT || made.prototype instanceof JS_CLIENT);
}

/**
 * Runs a statement. On a pool it goes as a named prepared statement (planned
 * once per connection, its timestamps read by the fast parser in
 * timestamp.ts); on a caller's client it goes as plain text, since we cannot
 * know what that client supports.
 */
export function runner(executor: Executor, prepared: boolean): Run {
  return async (statement, values) => {
    try {
      const result = prepared
        ? await (executor as pg.Pool).query({ name: statement.name, text: statement.text, values: values as unknown[], types: rowTypes })
        : await executor.query(statement.text, values as unknown[]);
      return result.rows;
    } catch (error) {
      throw toDatabaseError(error);
    }
  };
}

/** Wraps a driver error in a `DatabaseError` with a one-line message, keeping the cause. */
export function toDatabaseError(error: unknown): Error {
  if (error instanceof DatabaseError) return error;
  const e = error as { code?: string; message?: string };
  if (e && typeof e === "object" && typeof e.message === "string") {
    return new DatabaseError(describeDatabaseError(e), e.code, { cause: error });
  }
  return coerceError(error);
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
