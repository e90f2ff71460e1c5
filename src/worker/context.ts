import { SnoozeJob } from "../errors.js";
import { scopeLogger, type Logger } from "../logger.js";
import type { Attempt } from "./attempt.js";
import type { JobContext } from "./executor.js";

/** `ctx.snooze()`: ends the attempt; the executor turns the throw into a snooze. */
const snooze = (delayMs: number): never => {
  throw new SnoozeJob(delayMs);
};

/**
 * The context a handler gets. The signal and the scoped logger are made only
 * if the handler reads them (most short handlers never do).
 */
export function jobContext(
  entry: Attempt,
  workerId: string,
  parent: Logger,
  leases: { extend(entry: Attempt): Promise<void> },
  progress: { report(entry: Attempt, value: unknown): void },
): JobContext {
  const job = entry.job;
  let logger: Logger | undefined;
  return {
    job,
    attempt: job.attempts,
    workerId,
    get signal() {
      return entry.signal;
    },
    get logger() {
      return (logger ??= scopeLogger(parent, { jobId: job.id, type: job.type, attempt: job.attempts }));
    },
    heartbeat: () => leases.extend(entry),
    snooze,
    progress: (value) => progress.report(entry, value),
  };
}
