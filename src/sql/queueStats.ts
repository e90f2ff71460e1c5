import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/** Job counts per queue and status. */
export const queueStats = (schema: string): Statement =>
  statement(
    schema,
    "queueStats",
    `SELECT queue, status, count(*)::int AS count FROM ${quoteIdent(schema)}.jobs GROUP BY queue, status ORDER BY queue`,
  );
