import { statement, type Statement } from "../db.js";

/** Wakes the workers of these queues (the trailing NOTIFY of `WakeDebounce`). $1 channel, $2 queue names */
export const queueWake = (schema: string): Statement =>
  statement(schema, "queueWake", `SELECT pg_notify($1, q) FROM unnest($2::text[]) AS q`);
