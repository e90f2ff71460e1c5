import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

export const SCHEDULE_COLUMNS =
  "name, cron, time_zone, type, payload, queue, priority, max_attempts, timeout_ms, backfill_ms::float8 AS backfill_ms, last_tick, created_at, updated_at";

/**
 * Schedules by name (byte order); one schedule
 * with $1, all with null.
 *
 * $1 name or null
 */
export const scheduleList = (schema: string): Statement =>
  statement(
    schema,
    "scheduleList",
    `SELECT ${SCHEDULE_COLUMNS} FROM ${quoteIdent(schema)}.schedules
WHERE $1::text IS NULL OR name = $1::text
ORDER BY name COLLATE "C"`,
  );
