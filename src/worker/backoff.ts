import { ERROR_HISTORY_LIMIT } from "../sql/jobFail.js";
import type { Job } from "../types.js";
import type { BackoffOptions } from "./options.js";

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
