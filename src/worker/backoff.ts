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
