import { DjpsError, stringProperty } from "../errors.js";

/**
 * A request the HTTP API refuses, with its status. Every error response has
 * one shape: `{ "error": { "code", "message", "field"? } }`.
 */
export class HttpError extends DjpsError {
  /** The HTTP status code of the response (400, 401, 404, 409, 503…). */
  readonly status: number;
  /** The request field at fault (a body key, query parameter or header), for 400s. */
  readonly field: string | undefined;
  /** Extra response headers (`Retry-After`, `Allow`, `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: string, message: string, options: { field?: string; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.status = status;
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}

/** The JSON body of an error response. */
export interface ErrorBody {
  /** What went wrong. */
  error: {
    /** A stable machine-readable code, e.g. `"VALIDATION"`, `"NOT_FOUND"` or `"UNAVAILABLE"`. */
    code: string;
    /** A sentence for people. */
    message: string;
    /** The request field at fault, for 400s (a body key, query parameter or header). */
    field?: string;
  };
}

/**
 * SQLSTATE classes and Node error codes that mean "the database cannot do it
 * right now": connection failures (class 08), a server shutting down or
 * starting (57P01-57P03), a statement cancelled or timed out (57014), too
 * many connections or no resources left (class 53), a serialization failure
 * or deadlock (40001, 40P01), a lock not available (55P03), a read-only
 * server (25006: a standby, mid-failover), and sockets that failed. The
 * client should try again later: 503.
 */
const UNAVAILABLE_STATES = new Set([
  "57P01",
  "57P02",
  "57P03",
  "57014",
  "40001",
  "40P01",
  "55P03",
  "25006",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);

/** SQLSTATEs that mean the schema lacks what this code needs: not migrated (far enough). */
const UNMIGRATED_STATES = new Set(["42P01", "42883", "42703", "3F000"]);

function unavailable(error: unknown): boolean {
  const state = stringProperty(error, "sqlState") ?? stringProperty(error, "code");
  if (state !== undefined && (state.startsWith("08") || state.startsWith("53") || UNAVAILABLE_STATES.has(state))) return true;
  // pg's own errors when the socket goes away carry no code.
  const message = stringProperty(error, "message") ?? "";
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|Cannot reach the database/i.test(message);
}

/**
 * Maps anything a route threw to a status and the one error shape. Checked by
 * `code`, not `instanceof`: the CommonJS builds of `djps` and `djps/http` are
 * separate files, each with its own copy of the error classes. Messages of
 * unexpected errors are not sent (they may hold SQL or internals): the
 * caller's `onError` sees the error itself.
 */
export function errorResponse(error: unknown): { status: number; body: ErrorBody; headers: Readonly<Record<string, string>>; expected: boolean } {
  if (error instanceof HttpError) {
    return { status: error.status, body: bodyOf(error.code, error.message, error.field), headers: error.headers, expected: error.status < 500 || error.status === 503 };
  }
  const code = stringProperty(error, "code");
  const message = stringProperty(error, "message") ?? "";
  switch (code) {
    case "VALIDATION":
      return { status: 400, body: bodyOf(code, message, stringProperty(error, "field")), headers: {}, expected: true };
    case "JOB_NOT_FOUND":
      return { status: 404, body: bodyOf("NOT_FOUND", message), headers: {}, expected: true };
    case "INVALID_STATE":
      return { status: 409, body: bodyOf(code, message), headers: {}, expected: true };
    case "CONFIG":
      // A Queue refusing its schema (not migrated, too old, too new): the
      // operator's to fix, the client's to retry later. The message says
      // what to run, and names no secret.
      return { status: 503, body: bodyOf("UNAVAILABLE", message), headers: {}, expected: true };
  }
  if (code === "DATABASE" && UNMIGRATED_STATES.has(stringProperty(error, "sqlState") ?? "")) {
    return { status: 503, body: bodyOf("UNAVAILABLE", "The database schema is not at the version this server needs: run `djps migrate`"), headers: {}, expected: true };
  }
  if (unavailable(error)) {
    return { status: 503, body: bodyOf("UNAVAILABLE", "The database is unreachable; try again later"), headers: { "Retry-After": "1" }, expected: true };
  }
  return { status: 500, body: bodyOf("INTERNAL", "Internal error"), headers: {}, expected: false };
}

function bodyOf(code: string, message: string, field?: string): ErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } };
}
