import type pg from "pg";
import type { z } from "zod";
import type { Logger } from "../logger.js";
import type { JobSchemas, ParsedPayloadOf } from "../types.js";
import type { Handler } from "./executor.js";
import type { BackoffOptions } from "./backoff.js";
import type { workerOptionsSchema } from "./options.js";

/** A handler with per-type settings. */
export interface HandlerSpec<Payload = unknown, Result = unknown> {
  /** The function that runs the job: its return value is the job's result; what it throws fails the attempt. */
  handler: Handler<Payload, Result>;
  /** Abort the handler and fail the attempt after this long (a job's own `timeoutMs` wins). */
  timeoutMs?: number;
  /** Retry timing for this type, over the worker's. */
  backoff?: BackoffOptions;
  /** Validates the payload before the handler runs (over the worker's `schemas`). */
  schema?: z.ZodType;
}

/** A job type's handler: a function, or a spec with per-type settings. */
export type HandlerEntry<Payload = unknown> = Handler<Payload> | HandlerSpec<Payload>;

/**
 * Handlers by job type. A type registered in the worker's `schemas` gets its
 * payload typed as the schema's output; any other type's payload is
 * `unknown` (nothing checked it), so a handler cannot claim a type by
 * annotation. `H` is the handlers object itself, inferred by `new Worker()`.
 */
export type Handlers<S extends JobSchemas = {}, H = Record<string, unknown>> = {
  [K in keyof H]: HandlerEntry<ParsedPayloadOf<S, K & string>>;
};

/** The option fields as the schema that validates them takes them. */
type WorkerOptionFields = z.input<typeof workerOptionsSchema>;

/**
 * Options for `new Worker()`: the fields of the schema that validates them,
 * with `schemas` typed so that they type the handlers. See each field's
 * default, and `WORKER_DEFAULTS`.
 */
export interface WorkerOptions<S extends JobSchemas = {}> extends Omit<WorkerOptionFields, "schemas" | "pool" | "logger"> {
  /** An existing pool; `stop()` leaves it open. It needs a free connection for LISTEN besides the claim and completion ones. */
  pool?: pg.Pool;
  /** Zod schemas by job type, checked before the handler runs; they also type the handlers' payloads. */
  schemas?: S;
  /** Where logs go (pino-compatible). @default silent */
  logger?: Logger;
}
