import type { WorkerEvents } from "../events.js";
import type { Logger } from "../logger.js";
import type { Sql } from "../sql/query.js";

/** The maintenance events a duty may emit on its worker. */
export type MaintenanceEvents = Pick<WorkerEvents, "jobs:rescued" | "jobs:pruned" | "jobs:scheduled">;

/** What a duty works with: its worker's database, channel and logger, and how to tell the worker what it did. */
export interface DutyContext {
  /** Statements on the worker's pool. */
  readonly sql: Sql;
  /** The schema's NOTIFY channel, to wake workers. */
  readonly channel: string;
  readonly logger: Logger;
  emit<K extends keyof MaintenanceEvents>(event: K, data: MaintenanceEvents[K]): void;
  /** Jobs became claimable: the worker should claim now instead of at its next poll. */
  wake(): void;
}

/**
 * One maintenance duty (River's maintenance services are the model): every
 * worker runs it every `intervalMs`; the duty's statements take an advisory
 * lock or are idempotent, so many workers running it do the work once.
 */
export interface Duty<R = unknown> {
  /** Short, for logs: `rescue`, `prune`, `schedule`. */
  readonly name: string;
  /** What it does, as in "error while <doing>" (the `during` of `worker:error`). */
  readonly doing: string;
  readonly intervalMs: number;
  /** Run a pass as soon as the worker starts rather than one interval later. */
  readonly atStart: boolean;
  /** One pass. The worker's `rescueExpired()`, `pruneFinished()` and `runSchedules()` call it directly. */
  runOnce(): Promise<R>;
  /** Logs and emits what a pass run by the maintainer did. */
  report(result: R): void;
  /** Ends a pass in progress early, where the duty can (at stop). */
  interrupt?(): void;
}
