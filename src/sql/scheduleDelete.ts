import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/** Removes a schedule; returns its row if it existed. Jobs it enqueued stay. $1 name */
export const scheduleDelete = (schema: string): Statement =>
  statement(schema, "scheduleDelete", `DELETE FROM ${quoteIdent(schema)}.schedules WHERE name = $1 RETURNING name`);
