import type { Job } from "./types.js";
import { types } from "node:util";

/**
 * Every error djps throws on purpose is a `DjpsError`. Callers branch on the
 * subclass with `instanceof`, or on the stable string `code`.
 */
export class DjpsError extends Error {
  /** A stable machine-readable code, e.g. `"VALIDATION"`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A public input (argument or option) was not what the API expects. Nothing
 * was written. Code `VALIDATION`; the message has one shape:
 * ``Expected `options.priority` to be an integer from -32768 to 32767, got `1.5` (number)``.
 */
export class ValidationError extends DjpsError {
  /** The dotted path of the offending input, e.g. `options.priority`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super("VALIDATION", message);
    this.field = field;
  }
}

/** The configuration cannot work: no database to connect to, a bad schema name, and so on. Code `CONFIG`. */
export class ConfigError extends DjpsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CONFIG", message, options);
  }
}

/** Applying the schema failed: database unreachable, authentication, privileges, or a broken migration. Code `MIGRATION`. */
export class MigrationError extends DjpsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("MIGRATION", message, options);
  }
}

/** No job has the given id (it never existed, or was pruned). Code `JOB_NOT_FOUND`. */
export class JobNotFoundError extends DjpsError {
  /** The id that was asked for. */
  readonly jobId: string;
  constructor(jobId: string) {
    super("JOB_NOT_FOUND", `No job with id \`${jobId}\``);
    this.jobId = jobId;
  }
}

/**
 * A job that `waitFor` was waiting on ended `dead` or `canceled`. `job` is the
 * job as it ended, with its error history (`job.errors`, `job.lastError`).
 * Code `JOB_FAILED`.
 */
export class JobFailedError extends DjpsError {
  /** The job's id. */
  readonly jobId: string;
  /** The job as it ended (`status` is `dead` or `canceled`). */
  readonly job: Job;
  constructor(job: Job) {
    const why = job.status === "canceled" ? "was canceled" : `is dead${job.lastError ? `: ${job.lastError}` : ""}`;
    super("JOB_FAILED", `Job \`${job.id}\` ${why}`);
    this.jobId = job.id;
    this.job = job;
  }
}

/** `waitFor` gave up: the job had not finished within `timeoutMs`. `status` is what it was then. Code `WAIT_TIMEOUT`. */
export class WaitTimeoutError extends DjpsError {
  /** The job's id. */
  readonly jobId: string;
  /** The job's status when the wait gave up. */
  readonly status: string;
  constructor(jobId: string, timeoutMs: number, status: string) {
    super("WAIT_TIMEOUT", `Job \`${jobId}\` did not finish within ${timeoutMs} ms (it is \`${status}\`)`);
    this.jobId = jobId;
    this.status = status;
  }
}

/** The job exists but its state does not allow the operation (e.g. retrying a succeeded job). Code `INVALID_STATE`. */
export class InvalidStateError extends DjpsError {
  /** The job's id. */
  readonly jobId: string;
  /** The job's status, which the operation does not accept. */
  readonly status: string;
  constructor(jobId: string, status: string, operation: string, allowed: readonly string[]) {
    super(
      "INVALID_STATE",
      `Cannot ${operation} job \`${jobId}\`: it is \`${status}\`, expected one of ${allowed.map((s) => `\`${s}\``).join(", ")}`,
    );
    this.jobId = jobId;
    this.status = status;
  }
}

/** The database answered with an error djps did not expect, or could not be reached. Code `DATABASE`. */
export class DatabaseError extends DjpsError {
  /** The PostgreSQL SQLSTATE, or the Node.js error code for network failures. */
  readonly sqlState: string | undefined;
  constructor(message: string, sqlState: string | undefined, options?: { cause?: unknown }) {
    super("DATABASE", message, options);
    this.sqlState = sqlState;
  }
}

/**
 * Throw this from a handler to fail the job at once, without further retries:
 * the job goes straight to `dead`. Code `PERMANENT_JOB_FAILURE`.
 *
 * @example
 * const worker = new Worker({
 *   charge: async (payload) => {
 *     if (!payload.customerId) throw new PermanentJobError("No customer: retrying will not help");
 *     return billing.charge(payload);
 *   },
 * });
 */
export class PermanentJobError extends DjpsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("PERMANENT_JOB_FAILURE", message, options);
  }
}

/**
 * Throw this from a handler (or call `ctx.snooze(ms)`) to put the job back
 * for later without spending an attempt. Code `SNOOZE`.
 */
export class SnoozeJob extends DjpsError {
  /** How long to wait before the job may run again, in ms. */
  readonly delayMs: number;
  constructor(delayMs: number) {
    // The delay is checked where the snooze is written; here it may be anything a handler passed.
    super("SNOOZE", `Snoozed for ${textOf(delayMs)} ms`);
    this.delayMs = delayMs;
  }
}

/**
 * Turns anything thrown into an `Error` with a string message, so every
 * catch handles one shape. It never throws itself: a handler may throw a
 * null-prototype object, a Proxy whose traps throw, a revoked Proxy, an Error
 * whose `message` is a number or a getter that throws.
 *
 * An `Error` whose `message` and `name` read as strings comes back as it is,
 * its class kept (`PermanentJobError` must stay one). Anything else becomes a
 * new `Error` whose `cause` is the original value, its message read once,
 * here. A Proxy always does: even one that answers now may answer differently
 * (or throw) the next time, and the worker reads the message more than once.
 */
export function coerceError(thrown: unknown): Error {
  if (typeof thrown === "string") return new Error(thrown);
  if (!isInstance(thrown, Error)) return new Error(`Non-error thrown: ${textOf(thrown)}`, { cause: thrown });
  const message = readProperty(thrown as Error, "message");
  const name = readProperty(thrown as Error, "name");
  if (typeof message === "string" && typeof name === "string" && !types.isProxy(thrown)) return thrown as Error;
  const text = message === undefined ? "[no readable message]" : textOf(message);
  return new Error(typeof name === "string" && name !== "Error" ? `${name}: ${text}` : text, { cause: thrown });
}

/** `value[key]`, or undefined when `value` is not an object or reading it throws. */
function readProperty(value: unknown, key: string): unknown {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * `value[key]` when it is a string, else undefined; never throws. For the
 * properties of thrown values, which may be getters that throw.
 */
export function stringProperty(value: unknown, key: string): string | undefined {
  const v = readProperty(value, key);
  return typeof v === "string" ? v : undefined;
}

/**
 * `value instanceof type`, false when the check itself throws: it walks the
 * prototype chain, and a Proxy (or a revoked one) on it can throw from its trap.
 */
export function isInstance<T>(value: unknown, type: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}

/**
 * Readable text for any value, never throwing: strings as they are, other
 * primitives through `String`, objects as JSON when they can be, else their
 * own `String()`, else a placeholder.
 */
export function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || (typeof value !== "object" && typeof value !== "function")) {
    try {
      return String(value);
    } catch {
      return "[unprintable value]";
    }
  }
  try {
    const json = JSON.stringify(value);
    if (typeof json === "string") return json;
  } catch {
    // a cycle, a throwing toJSON or getter, a BigInt inside: try String()
  }
  try {
    const text = String(value);
    if (typeof text === "string") return text;
  } catch {
    // no usable toString (a null-prototype object) or one that throws
  }
  return "[unprintable value]";
}
