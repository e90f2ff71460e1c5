import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * Records the newest tick a scheduler enqueued for a schedule; never moves it
 * back (two schedulers may report in any order).
 *
 * $1 name, $2 tick
 */
export const scheduleAdvance = (schema: string): Statement =>
  statement(
    schema,
    "scheduleAdvance",
    `UPDATE ${quoteIdent(schema)}.schedules
SET last_tick = GREATEST(last_tick, $2::timestamptz)
WHERE name = $1 AND (last_tick IS NULL OR last_tick < $2::timestamptz)`,
  );
