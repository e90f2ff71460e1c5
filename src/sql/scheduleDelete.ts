import { query } from "./query.js";

/** Removes a schedule; returns its row if it existed. Jobs it enqueued stay. */
export const scheduleDelete = query<{ name: string }, { name: string }>(
  "scheduleDelete",
  (s) => `DELETE FROM ${s}.schedules WHERE name = $1 RETURNING name`,
  (p) => [p.name],
);
