import { query } from "./query.js";

/**
 * Enqueues the due ticks of one schedule and records the newest tick, in one
 * statement and so one transaction: a tick is never recorded without its job,
 * nor enqueued twice. Each tick's job carries the idempotency key
 * `keys[i]` (`schedule:<name>:<tick>`): workers racing on the same tick make
 * one job between them, however often they restart. The newest tick never
 * moves back (two schedulers may finish in any order). The jobs run now, in
 * tick order (the caller passes ids sorted, UUIDv7, one per key), and one
 * NOTIFY wakes the queue's workers when any job was created.
 *
 * Returns one row: how many jobs were created.
 */
export const scheduleTick = query<
  {
    name: string;
    queue: string;
    type: string;
    /** JSON text. */
    payload: string;
    priority: number;
    maxAttempts: number;
    timeoutMs: number | null;
    ids: readonly string[];
    keys: readonly string[];
    /** The newest of the ticks. */
    lastTick: Date;
    channel: string;
    /** The producer's trace context (see tracing.ts), null for none. */
    traceContext: object | null;
    /** The jobs' group, null for none. */
    group: string | null;
  },
  { created: number }
>(
  "scheduleTick",
  (s) => `WITH ins AS (
  INSERT INTO ${s}.jobs AS j
    (id, queue, type, payload, priority, run_at, max_attempts, timeout_ms, idempotency_key, trace_context, group_key)
  SELECT u.id, $2, $3, $4::jsonb, $5, now(), $6, $7, u.key, $12::jsonb, $13
  FROM unnest($8::uuid[], $9::text[]) AS u(id, key)
  ORDER BY u.key COLLATE "C"
  ON CONFLICT (type, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING j.id
), advanced AS (
  UPDATE ${s}.schedules
  SET last_tick = GREATEST(last_tick, $10::timestamptz)
  WHERE name = $1 AND (last_tick IS NULL OR last_tick < $10::timestamptz)
), wake AS (
  SELECT pg_notify($11, $2) WHERE EXISTS (SELECT 1 FROM ins)
)
SELECT (SELECT count(*) FROM ins)::int AS created WHERE (SELECT count(*) FROM wake) >= 0`,
  (p) => [p.name, p.queue, p.type, p.payload, p.priority, p.maxAttempts, p.timeoutMs, p.ids, p.keys, p.lastTick, p.channel, p.traceContext, p.group],
);
