import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * Job counts per queue and status, sorted by queue name in byte order
 * (`COLLATE "C"`), so the order is the same whatever the database's locale.
 */
export const queueStats = (schema: string): Statement =>
  statement(
    schema,
    "queueStats",
    `SELECT queue, status, count(*)::int AS count FROM ${quoteIdent(schema)}.jobs GROUP BY queue, status ORDER BY queue COLLATE "C"`,
  );
