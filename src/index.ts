export { Queue } from "./queue.js";
export type { QueueOptions, CallOptions, EnqueueItem, EnqueueOptions, ListJobsOptions } from "./queue.js";
export { migrate, MIGRATIONS_DIR } from "./migrate.js";
export type { MigrateOptions, MigrateResult } from "./migrate.js";
export {
  DjpsError,
  ValidationError,
  ConfigError,
  MigrationError,
  JobNotFoundError,
  InvalidStateError,
  DatabaseError,
  PermanentJobError,
  SnoozeJob,
} from "./errors.js";
export type { Executor } from "./db.js";
export { JOB_STATUSES, DEFAULT_SCHEMA, DEFAULT_QUEUE, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_PAYLOAD_BYTES } from "./options.js";
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
  QueueStats,
  StatusCounts,
} from "./types.js";
