import { query } from "./query.js";

/** Wakes the workers of these queues (the trailing NOTIFY of `WakeDebounce`). */
export const queueWake = query<{ channel: string; queues: readonly string[] }, unknown>(
  "queueWake",
  () => `SELECT pg_notify($1, q) FROM unnest($2::text[]) AS q`,
  (p) => [p.channel, p.queues],
);
