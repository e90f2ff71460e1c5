import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * Puts many running jobs back to `queued` at now + delay without spending an
 * attempt: `attempts` stays monotonic (it fences stale workers) and
 * `max_attempts` grows by one instead. Used for snoozes and for jobs released
 * at shutdown. Fenced like `jobComplete`; returns changed ids and run_at.
 *
 * $1 ids, $2 attempts, $3 delays ms, $4 worker id, $5 channel
 */
export const jobSnooze = (schema: string): Statement =>
  statement(
    schema,
    "jobSnooze",
    `WITH upd AS (
  UPDATE ${quoteIdent(schema)}.jobs AS j
  SET status = 'queued', run_at = now() + u.delay_ms * interval '1 millisecond',
      max_attempts = j.max_attempts + 1, locked_until = NULL, updated_at = now()
  FROM unnest($1::uuid[], $2::int[], $3::float8[]) AS u(id, attempt, delay_ms)
  WHERE j.id = u.id AND j.status = 'running' AND j.locked_by = $4 AND j.attempts = u.attempt
  RETURNING j.id, j.run_at, j.queue
), wake AS (
  SELECT pg_notify($5, q.queue) FROM (SELECT DISTINCT queue FROM upd WHERE run_at <= now()) q
)
SELECT id, run_at FROM upd WHERE (SELECT count(*) FROM wake) >= 0`,
  );
