import { query } from "./query.js";

export const SCHEDULE_COLUMNS =
  "name, cron, time_zone, type, payload, queue, priority, max_attempts, timeout_ms, backfill_ms::float8 AS backfill_ms, last_tick, created_at, updated_at, group_key";

/** A `schedules` row as `SCHEDULE_COLUMNS` selects it. */
export interface ScheduleRow {
  name: string;
  cron: string;
  time_zone: string;
  type: string;
  payload: unknown;
  queue: string;
  priority: number;
  max_attempts: number;
  timeout_ms: number | null;
  backfill_ms: number;
  last_tick: Date | null;
  created_at: Date;
  updated_at: Date;
  group_key: string | null;
}

/** Schedules by name (byte order): the one named, or all with a null name. */
export const scheduleList = query<{ name: string | null }, ScheduleRow>(
  "scheduleList",
  (s) => `SELECT ${SCHEDULE_COLUMNS} FROM ${s}.schedules
WHERE $1::text IS NULL OR name = $1::text
ORDER BY name COLLATE "C"`,
  (p) => [p.name],
);
