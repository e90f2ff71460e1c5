import { query } from "./query.js";

/** A queue's limits as its row in `queues` holds them. */
export interface QueueLimitsRow {
  name: string;
  concurrency_limit: number | null;
  rate_limit: number | null;
  rate_interval_ms: number | null;
  group_concurrency: number | null;
}

/**
 * Sets a queue's limits cluster-wide: upserts its row in `queues`, changing
 * only the limits the caller gave (`setConcurrency`, `setRate`, `setGroup`); a null value
 * removes that limit. Removing the rate limit forgets the queue's log of recent
 * starts. Every worker's next claim sees the change (see `job_claim` in
 * migrations/11_limits.sql). One NOTIFY on the queue wakes idle workers: a
 * raised or removed limit leaves room they should use now, not at their next
 * poll.
 */
export const queueLimitsSet = query<
  {
    queue: string;
    setConcurrency: boolean;
    concurrency: number | null;
    setRate: boolean;
    rateLimit: number | null;
    rateIntervalMs: number | null;
    setGroup: boolean;
    groupConcurrency: number | null;
    channel: string;
  },
  QueueLimitsRow
>(
  "queueLimitsSet",
  (s) => `WITH changed AS (
  INSERT INTO ${s}.queues AS q (name, concurrency_limit, rate_limit, rate_interval_ms, group_concurrency) VALUES ($1, $3, $5, $6, $9)
  ON CONFLICT (name) DO UPDATE SET
    concurrency_limit = CASE WHEN $2 THEN EXCLUDED.concurrency_limit ELSE q.concurrency_limit END,
    rate_limit = CASE WHEN $4 THEN EXCLUDED.rate_limit ELSE q.rate_limit END,
    rate_interval_ms = CASE WHEN $4 THEN EXCLUDED.rate_interval_ms ELSE q.rate_interval_ms END,
    rate_at = CASE WHEN $4 AND EXCLUDED.rate_limit IS NULL THEN '{}' ELSE q.rate_at END,
    rate_n = CASE WHEN $4 AND EXCLUDED.rate_limit IS NULL THEN '{}' ELSE q.rate_n END,
    group_concurrency = CASE WHEN $8 THEN EXCLUDED.group_concurrency ELSE q.group_concurrency END,
    updated_at = now()
  RETURNING name, concurrency_limit, rate_limit, rate_interval_ms, group_concurrency
), wake AS (
  SELECT pg_notify($7, name) FROM changed
)
SELECT name, concurrency_limit, rate_limit, rate_interval_ms, group_concurrency FROM changed WHERE (SELECT count(*) FROM wake) >= 0`,
  (p) => [
    p.queue,
    p.setConcurrency,
    p.setConcurrency ? p.concurrency : null,
    p.setRate,
    p.setRate ? p.rateLimit : null,
    p.setRate ? p.rateIntervalMs : null,
    p.channel,
    p.setGroup,
    p.setGroup ? p.groupConcurrency : null,
  ],
);

/** The limited queues (or the one named), by name in byte order. */
export const queueLimitsList = query<{ queue: string | null }, QueueLimitsRow>(
  "queueLimitsList",
  (s) => `SELECT name, concurrency_limit, rate_limit, rate_interval_ms, group_concurrency FROM ${s}.queues
WHERE (concurrency_limit IS NOT NULL OR rate_limit IS NOT NULL OR group_concurrency IS NOT NULL) AND ($1::text IS NULL OR name = $1)
ORDER BY name COLLATE "C"`,
  (p) => [p.queue],
);
