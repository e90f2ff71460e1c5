import { query } from "./query.js";

/**
 * Pauses a queue cluster-wide: upserts its row in `queues` with `paused_at`
 * (kept from an earlier pause, so pausing twice changes nothing). The claim
 * reads this table on every call (see `job_claim` in the migrations).
 */
export const queuePause = query<{ queue: string }, { name: string; paused_at: Date }>(
  "queuePause",
  (s) => `INSERT INTO ${s}.queues AS q (name, paused_at) VALUES ($1, now())
ON CONFLICT (name) DO UPDATE SET paused_at = COALESCE(q.paused_at, now()), updated_at = now()
RETURNING name, paused_at`,
  (p) => [p.queue],
);

/**
 * Resumes a queue and wakes its workers with one NOTIFY (delivered on
 * commit), so idle workers claim its backlog at once instead of at their next
 * poll. Returns the row if the queue was paused.
 */
export const queueResume = query<{ queue: string; channel: string }, { name: string }>(
  "queueResume",
  (s) => `WITH resumed AS (
  UPDATE ${s}.queues SET paused_at = NULL, updated_at = now()
  WHERE name = $1 AND paused_at IS NOT NULL
  RETURNING name
), wake AS (
  SELECT pg_notify($2, name) FROM resumed
)
SELECT name FROM resumed WHERE (SELECT count(*) FROM wake) >= 0`,
  (p) => [p.queue, p.channel],
);

/** The paused queues, by name in byte order. */
export const queuesPaused = query<void, { name: string; paused_at: Date }>(
  "queuesPaused",
  (s) => `SELECT name, paused_at FROM ${s}.queues WHERE paused_at IS NOT NULL ORDER BY name COLLATE "C"`,
  () => [],
);
