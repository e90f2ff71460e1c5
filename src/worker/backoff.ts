import { z } from "zod";
import { intSchema, MAX_INT } from "../options.js";
import { ERROR_HISTORY_LIMIT } from "../sql/jobFail.js";
import type { Job } from "../types.js";

const numberFrom = (min: number, max: number) => {
  const text = `a number from ${min} to ${max}`;
  return z.number({ error: text }).min(min, { error: text }).max(max, { error: text });
};

export const backoffSchema = z.strictObject(
  {
    /** Delay after the first failed attempt. @default 1000 */
    baseMs: intSchema(0, MAX_INT).optional(),
    /** Growth per attempt. @default 2 */
    factor: numberFrom(1, 100).optional(),
    /** Upper bound of a delay. @default 3600000 (1 hour) */
    maxMs: intSchema(0, MAX_INT).optional(),
    /** Fraction of the delay that is randomised away, 0 to 1, to spread retries. @default 0.25 */
    jitter: numberFrom(0, 1).optional(),
  },
  { error: "a backoff object { baseMs, factor, maxMs, jitter }" },
);
/**
 * Retry timing: attempt n waits min(maxMs, baseMs * factor^(n-1)), then jitter takes off up to `jitter` of it.
 * @useDeclaredType
 */
export type BackoffOptions = z.input<typeof backoffSchema>;

/**
 * The delay before the next attempt after `attempt` (from 1) failed:
 * min(maxMs, baseMs * factor^(attempt-1)), less a random share of up to
 * `jitter` of it, so retries of jobs that failed together spread out.
 * `random` is injectable for tests.
 */
export function retryDelayMs(attempt: number, backoff: Required<BackoffOptions>, random: () => number = Math.random): number {
  const exponential = backoff.baseMs * Math.pow(backoff.factor, Math.max(0, attempt - 1));
  const capped = Math.min(backoff.maxMs, exponential);
  return Math.round(capped * (1 - backoff.jitter * random()));
}

/**
 * Which failure of the job this is, for the backoff. `attempts` also counts
 * snoozes and shutdown releases, which must not push retries further out; the
 * error history holds one entry per failure (handler errors and expired
 * leases) while it is not full, and once it is, `attempts` is the bound.
 */
export function failureNumber(job: Job): number {
  const failures = Array.isArray(job.errors) ? job.errors.length : 0;
  return failures < ERROR_HISTORY_LIMIT ? Math.min(job.attempts, failures + 1) : job.attempts;
}
