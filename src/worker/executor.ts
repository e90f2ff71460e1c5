import type { z } from "zod";
import { coerceError, isInstance, PermanentJobError, SnoozeJob, stringProperty, textOf } from "../errors.js";
import type { Logger } from "../logger.js";
import { serializeJson } from "../payload.js";
import type { Job } from "../types.js";
import { describe, schemaMismatch } from "../validate.js";
import { AbortReason, type Attempt } from "./attempt.js";
import type { BackoffOptions } from "./backoff.js";

/** What a handler gets besides its payload. */
export interface JobContext<Payload = unknown> {
  /** The job as claimed (status `running`, `attempts` counting this attempt). */
  readonly job: Job<Payload>;
  /** This attempt's number, from 1. */
  readonly attempt: number;
  /** The worker running the job. */
  readonly workerId: string;
  /**
   * Aborted when the job times out, when this worker loses the job's lease, or
   * when shutdown passes its grace period. Pass it to anything that accepts one.
   */
  readonly signal: AbortSignal;
  /** A logger scoped to this job. */
  readonly logger: Logger;
  /**
   * Extends this job's lease now (the worker also does this on its own on a
   * timer). Rejects with the signal's reason if the lease was lost.
   */
  heartbeat(): Promise<void>;
  /** Ends this attempt and runs the job again after `delayMs`, without spending an attempt. */
  snooze(delayMs: number): never;
  /**
   * Reports how far the job has got: a number from 0 to 100, or a JSON value
   * of at most 8 KiB (say `{ done: 40, of: 120 }`). Call it as often as you
   * like: the latest value is written at most every 250 ms, and the value
   * reported last before the handler returns is written before the outcome.
   * Readable as `job.progress` (`getJob`, the HTTP API), and emitted as
   * `job:progress` once written. Throws a `ValidationError` for a value that
   * cannot be stored.
   */
  progress(value: unknown): void;
}

/** A handler: returns the job's result (any JSON, stored on the job) or throws to fail the attempt. */
export type Handler<Payload = unknown, Result = unknown> = (payload: Payload, ctx: JobContext<Payload>) => Promise<Result> | Result;

/** A job type's handler and its settings, resolved once at construction. */
export interface ResolvedHandler {
  handler: Handler;
  timeoutMs: number | undefined;
  backoff: Required<BackoffOptions>;
  schema: z.ZodType | undefined;
}

/** What the executor decided; the worker writes it. */
export type Verdict =
  | { kind: "complete"; result: string | null }
  | { kind: "fail"; error: Error; permanent: boolean }
  | { kind: "snooze"; delayMs: number }
  /** The attempt was cut off (lease lost, or released at shutdown): write nothing. */
  | { kind: "abandon" }
  /** The job's cancel was requested and its handler cut off: write `canceled`. */
  | { kind: "cancel" };

/** The result as JSON text; one that cannot be stored fails the job for good (a retry would do the same). */
function storableResult(value: unknown): string | null {
  if (value === undefined) return null;
  try {
    return serializeJson(value, "result", MAX_RESULT_BYTES);
  } catch (error) {
    // Whatever serialising threw (a toJSON or a Proxy trap can throw anything), as text.
    throw new PermanentJobError(`The handler's result cannot be stored: ${coerceError(error).message}`);
  }
}

/** Longest error message and stack kept on a job (each history entry holds both). */
export const MAX_ERROR_TEXT = 4000;

/** The longest snooze, as for an enqueue's `delayMs` (ten years). */
const MAX_SNOOZE_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * A failed attempt's message and stack as they can be stored: PostgreSQL text
 * cannot hold NUL characters (one would make the whole batched write fail, and
 * fail again on every retry), lone surrogates are replaced, and both are capped.
 */
export function failureText(error: Error): { message: string; stack: string | null } {
  // Read defensively: the worker relies on this to record any failure at all.
  const message = stringProperty(error, "message") || stringProperty(error, "name") || "Error";
  const stack = stringProperty(error, "stack");
  return { message: storableFailure(message), stack: stack ? storableFailure(stack) : null };
}

/** Text as a failure message can store it: capped, no NUL, no lone surrogates. */
export function storableFailure(text: string): string {
  const capped = text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}\u2026` : text;
  return capped.replace(/\u0000/g, "\uFFFD").toWellFormed();
}

/** A snooze's delay, or a failure naming the bad value (a snooze that cannot be written would never end the attempt). */
function snoozeVerdict(delayMs: unknown): Verdict {
  if (typeof delayMs === "number" && delayMs >= 0 && delayMs <= MAX_SNOOZE_MS) {
    return { kind: "snooze", delayMs: Math.round(delayMs) };
  }
  // describe() renders numbers through JSON, where NaN and Infinity read as null.
  const shown = typeof delayMs === "number" ? `\`${delayMs}\` (number)` : describeDelay(delayMs);
  const error = new TypeError(`Expected the snooze delay to be a number of milliseconds from 0 to ${MAX_SNOOZE_MS}, got ${shown}`);
  return { kind: "fail", error, permanent: false };
}

/** describe() for a delay a handler passed, which may be a value that throws when looked at. */
function describeDelay(delayMs: unknown): string {
  try {
    return describe(delayMs);
  } catch {
    return `\`${textOf(delayMs)}\``;
  }
}

/** A snooze's delay as the handler gave it; undefined when reading it throws. */
function delayOf(snooze: SnoozeJob): unknown {
  try {
    return snooze.delayMs;
  } catch {
    return undefined;
  }
}

/** What a throw from the handler (or from storing its result) makes of the attempt. */
function thrownVerdict(attempt: Attempt, thrown: unknown): Verdict {
  const reason = attempt.reason;
  if (reason instanceof AbortReason && reason.why === "canceled") return { kind: "cancel" };
  if (reason instanceof AbortReason && reason.why !== "timeout") return { kind: "abandon" };
  if (reason instanceof AbortReason) return { kind: "fail", error: reason, permanent: false };
  if (isInstance(thrown, SnoozeJob)) return snoozeVerdict(delayOf(thrown));
  const error = coerceError(thrown);
  return { kind: "fail", error, permanent: isInstance(error, PermanentJobError) };
}

/** The largest result stored (results are for small summaries; big data belongs elsewhere). */
const MAX_RESULT_BYTES = 1024 * 1024;

/**
 * Runs one job's handler: validates the payload when a schema is registered,
 * arms the timeout, and turns whatever happens into a `Verdict`. A timeout
 * aborts the signal and fails the attempt at once; a handler that ignores its
 * signal keeps running in the background and its result is discarded.
 */
export async function execute(attempt: Attempt, spec: ResolvedHandler, ctx: JobContext): Promise<Verdict> {
  const job = attempt.job;
  const timeoutMs = job.timeoutMs ?? spec.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    let payload: unknown = job.payload;
    if (spec.schema) {
      const parsed = spec.schema.safeParse(payload);
      if (!parsed.success) {
        // The message the Queue gives for a payload its schema refuses.
        throw new PermanentJobError(schemaMismatch(job.type, "payload", payload, parsed.error.issues[0]!).message);
      }
      payload = parsed.data;
    }
    const running = Promise.resolve().then(() => spec.handler(payload, ctx));
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => attempt.abort(new AbortReason("timeout", `Timed out after ${timeoutMs} ms`)), timeoutMs);
    }
    // race() also keeps the rejection of a handler that outlives its attempt quiet.
    const value = await attempt.race(running);
    return { kind: "complete", result: storableResult(value) };
  } catch (thrown) {
    return thrownVerdict(attempt, thrown);
  } finally {
    clearTimeout(timer);
  }
}
