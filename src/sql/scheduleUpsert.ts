import { query } from "./query.js";
import { SCHEDULE_COLUMNS, type ScheduleRow } from "./scheduleList.js";

/**
 * Creates a schedule or replaces its definition. A replaced schedule keeps
 * `created_at` and `last_tick` and gets a new `updated_at`: no tick from before
 * the change is enqueued.
 */
export const scheduleUpsert = query<
  {
    name: string;
    cron: string;
    timeZone: string;
    type: string;
    /** JSON text. */
    payload: string;
    queue: string;
    priority: number;
    maxAttempts: number;
    timeoutMs: number | null;
    backfillMs: number;
    group: string | null;
  },
  ScheduleRow
>(
  "scheduleUpsert",
  (s) => `INSERT INTO ${s}.schedules AS s
  (name, cron, time_zone, type, payload, queue, priority, max_attempts, timeout_ms, backfill_ms, group_key)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11)
ON CONFLICT (name) DO UPDATE SET
  cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone, type = EXCLUDED.type, payload = EXCLUDED.payload,
  queue = EXCLUDED.queue, priority = EXCLUDED.priority, max_attempts = EXCLUDED.max_attempts,
  timeout_ms = EXCLUDED.timeout_ms, backfill_ms = EXCLUDED.backfill_ms, group_key = EXCLUDED.group_key, updated_at = now()
RETURNING ${SCHEDULE_COLUMNS}`,
  (p) => [p.name, p.cron, p.timeZone, p.type, p.payload, p.queue, p.priority, p.maxAttempts, p.timeoutMs, p.backfillMs, p.group],
);
