export { Queue } from "./queue.js";
export type { QueueOptions, CallOptions, EnqueueItem, EnqueueOptions, ListJobsOptions, WorkersOptions, LimitsInput, WaitOptions } from "./queue.js";
export { Worker } from "./worker/worker.js";
export { Metrics } from "./metrics/metrics.js";
export type { MetricsOptions } from "./metrics/metrics.js";
export type { WorkerOptions, Handlers, HandlerSpec, HandlerEntry } from "./worker/types.js";
export type { Handler, JobContext } from "./worker/executor.js";
export type { BackoffOptions } from "./worker/backoff.js";
export { DEFAULT_BACKOFF, WORKER_DEFAULTS } from "./worker/options.js";
export { retryDelayMs } from "./worker/backoff.js";
export type { RescueResult } from "./maintenance/rescuer.js";
export type { PruneResult } from "./maintenance/pruner.js";
export type { DeadJobFilter } from "./dead-letter.js";
export type { Schedule, ScheduleOptions } from "./schedule.js";
export type { SchedulerResult } from "./maintenance/scheduler.js";
export type { RetentionOptions, PruneOptions, PrunableStatus } from "./maintenance/retention.js";
export { DEFAULT_RETENTION } from "./maintenance/pruner.js";
export type { WorkerEvents, QueueEvents } from "./events.js";
export { silentLogger, consoleLogger } from "./logger.js";
export type { Logger } from "./logger.js";
export { ERROR_HISTORY_LIMIT } from "./sql/jobFail.js";
export { migrate, MIGRATIONS_DIR } from "./migrate.js";
export { grant } from "./grant.js";
export type { GrantOptions } from "./grant.js";
export type { MigrateOptions, MigrateResult } from "./migrate.js";
export {
  DjpsError,
  ValidationError,
  ConfigError,
  MigrationError,
  JobNotFoundError,
  InvalidStateError,
  JobFailedError,
  WaitTimeoutError,
  DatabaseError,
  PermanentJobError,
  SnoozeJob,
} from "./errors.js";
export type { Executor } from "./db.js";
export { DEFAULT_SCHEMA, DEFAULT_QUEUE, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_PAYLOAD_BYTES, QUEUE_DEFAULTS } from "./options.js";
export { JOB_STATUSES } from "./states.js";
export type {
  Job,
  JobStatus,
  JobErrorRecord,
  JobSchemas,
  JobType,
  PayloadOf,
  ParsedPayloadOf,
  EnqueueResult,
  JobPage,
  QueueState,
  QueueLimits,
  QueueLimitsState,
  RateLimit,
  GroupLimit,
  QueueStats,
  QueueStatsEntry,
  RecentCounts,
  StatusCounts,
  WorkerInfo,
} from "./types.js";
