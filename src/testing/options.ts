import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { silentLogger, type Logger } from "../logger.js";
import { intSchema, MAX_INT } from "../options.js";
import { backoffSchema } from "../worker/backoff.js";
import type { ResolvedHandler } from "../worker/executor.js";
import { resolveWorkerOptions, WORKER_DEFAULTS } from "../worker/options.js";

/** The lease a run in `drain` or `runJob` is claimed with, unless `leaseMs` says otherwise. */
export const TESTING_LEASE_MS = WORKER_DEFAULTS.leaseMs;

const loggerSchema = z.custom<Logger>(
  (v) => v !== null && typeof v === "object" && ["debug", "info", "warn", "error"].every((m) => typeof (v as Record<string, unknown>)[m] === "function"),
  { error: "a logger with debug, info, warn and error methods" },
);

/**
 * The options `drain` and `runJob` share: the Worker settings that shape a
 * run (each means what it means on `new Worker()`).
 */
export const runShape = {
  /** Default handler timeout for every type, as the Worker's `timeoutMs`. @default none */
  timeoutMs: intSchema(1, MAX_INT).optional(),
  /** Retry timing, as the Worker's `backoff`. @default WORKER_DEFAULTS.backoff */
  backoff: backoffSchema.optional(),
  /** The lease each run is claimed with; `ctx.heartbeat()` extends it (there is no heartbeat timer). @default 30000 */
  leaseMs: intSchema(1000, MAX_INT).optional(),
  /** Where the handlers' `ctx.logger` writes. @default silent */
  logger: loggerSchema.optional(),
};

export interface RunSettings {
  handlers: ReadonlyMap<string, ResolvedHandler>;
  workerId: string;
  leaseMs: number;
  logger: Logger;
}

/**
 * Resolves handlers the way `new Worker(handlers, options)` does (functions or
 * specs with `schema`, `timeoutMs`, `backoff`; validation errors name
 * `handlers.<type>`), with the run options as the Worker's defaults.
 */
export function runSettings(handlers: unknown, options: { timeoutMs?: number | undefined; backoff?: object | undefined; leaseMs?: number | undefined; logger?: Logger | undefined }): RunSettings {
  const resolved = resolveWorkerOptions(handlers, { timeoutMs: options.timeoutMs, backoff: options.backoff });
  return {
    handlers: resolved.handlers,
    // Shown as `ctx.workerId` and in `locked_by` while a job runs.
    workerId: `testing:${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`,
    leaseMs: options.leaseMs ?? TESTING_LEASE_MS,
    logger: options.logger ?? silentLogger,
  };
}
