import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * Pauses a queue cluster-wide: upserts its row in `queues` with `paused_at`
 * (kept from an earlier pause, so pausing twice changes nothing). The claim
 * reads this table on every call (see `job_claim` in migrations/2_operations.sql).
 *
 * $1 queue name
 */
export const queuePause = (schema: string): Statement =>
  statement(
    schema,
    "queuePause",
    `INSERT INTO ${quoteIdent(schema)}.queues AS q (name, paused_at) VALUES ($1, now())
ON CONFLICT (name) DO UPDATE SET paused_at = COALESCE(q.paused_at, now()), updated_at = now()
RETURNING name, paused_at`,
  );

/**
 * Resumes a queue and wakes its workers with one NOTIFY (delivered on
 * commit), so idle workers claim its backlog at once instead of at their next
 * poll. Returns the row if the queue was paused.
 *
 * $1 queue name, $2 channel
 */
export const queueResume = (schema: string): Statement =>
  statement(
    schema,
    "queueResume",
    `WITH resumed AS (
  UPDATE ${quoteIdent(schema)}.queues SET paused_at = NULL, updated_at = now()
  WHERE name = $1 AND paused_at IS NOT NULL
  RETURNING name
), wake AS (
  SELECT pg_notify($2, name) FROM resumed
)
SELECT name FROM resumed WHERE (SELECT count(*) FROM wake) >= 0`,
  );

/** The paused queues, by name in byte order. */
export const queuesPaused = (schema: string): Statement =>
  statement(
    schema,
    "queuesPaused",
    `SELECT name, paused_at FROM ${quoteIdent(schema)}.queues WHERE paused_at IS NOT NULL ORDER BY name COLLATE "C"`,
  );
