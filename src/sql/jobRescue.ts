import type { JobStatus } from "../states.js";
import { ERROR_HISTORY_LIMIT } from "./jobFail.js";
import { query } from "./query.js";

/**
 * How many releases without an attempt spent (the job was held, never
 * started, and its worker died) a job's error history may show before the
 * next one is charged like any other lease expiry. It keeps a job that kills
 * its worker before the start is recorded from coming back for free forever.
 */
export const UNSTARTED_RELEASE_LIMIT = 3;

/**
 * Lease rescue: running jobs whose lease passed (their worker died or
 * stalled). One that never started goes back to `queued` without spending an
 * attempt; the others go to `failed`, runnable now, or to `dead` when no
 * attempts are left, with the reason in their error history. Runs only in the
 * session that wins the transaction-scoped advisory lock `lockKey`, so one
 * worker in the cluster does it at a time; at most `limit` rows per call. The
 * statement is the schema's `job_rescue` function
 * (migrations/5_started_and_probes.sql).
 */
export const jobRescue = query<{ lockKey: number; limit: number; channel: string }, { id: string; status: JobStatus }>(
  "jobRescue",
  (s) => `SELECT id, status FROM ${s}.job_rescue($1::bigint, $2::int, $3::text, ${ERROR_HISTORY_LIMIT}, ${UNSTARTED_RELEASE_LIMIT})`,
  (p) => [p.lockKey, p.limit, p.channel],
);
