import { CLAIMABLE, type JobStatus } from "../states.js";
import { sqlList } from "./ident.js";
import { query } from "./query.js";

/**
 * Per queue and status in one pass over the table: the job count; for
 * claimable rows (queued or failed and due) the age of the oldest in ms, the
 * lag; and how many reached the status in the last minute and hour — by
 * `finished_at` for succeeded, dead and canceled jobs, by `updated_at` (the
 * failed attempt) for failed jobs waiting for a retry. Sorted by queue name in
 * byte order (`COLLATE "C"`), the same whatever the database's locale.
 */
export const queueStats = query<
  void,
  { queue: string; status: JobStatus; count: number; lag_ms: number | null; last_minute: number; last_hour: number }
>(
  "queueStats",
  (s) => `SELECT queue, status, count(*)::int AS count,
  (extract(epoch FROM now() - min(run_at) FILTER (WHERE status IN (${sqlList(CLAIMABLE)}) AND run_at <= now())) * 1000)::float8 AS lag_ms,
  count(*) FILTER (WHERE coalesce(finished_at, CASE WHEN status = 'failed' THEN updated_at END) > now() - interval '1 minute')::int AS last_minute,
  count(*) FILTER (WHERE coalesce(finished_at, CASE WHEN status = 'failed' THEN updated_at END) > now() - interval '1 hour')::int AS last_hour
FROM ${s}.jobs
GROUP BY queue, status
ORDER BY queue COLLATE "C"`,
  () => [],
);
