import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { SCHEDULE_COLUMNS } from "./scheduleList.js";

/**
 * Creates a schedule or replaces its definition. A replaced schedule keeps
 * `created_at` and `last_tick` and gets a new `updated_at`: no tick from before
 * the change is enqueued.
 *
 * $1 name, $2 cron, $3 time zone, $4 type, $5 payload json text, $6 queue,
 * $7 priority, $8 max attempts, $9 timeout ms, $10 backfill ms
 */
export const scheduleUpsert = (schema: string): Statement =>
  statement(
    schema,
    "scheduleUpsert",
    `INSERT INTO ${quoteIdent(schema)}.schedules AS s
  (name, cron, time_zone, type, payload, queue, priority, max_attempts, timeout_ms, backfill_ms)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)
ON CONFLICT (name) DO UPDATE SET
  cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone, type = EXCLUDED.type, payload = EXCLUDED.payload,
  queue = EXCLUDED.queue, priority = EXCLUDED.priority, max_attempts = EXCLUDED.max_attempts,
  timeout_ms = EXCLUDED.timeout_ms, backfill_ms = EXCLUDED.backfill_ms, updated_at = now()
RETURNING ${SCHEDULE_COLUMNS}`,
  );
