import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { ERROR_HISTORY_LIMIT } from "./jobFail.js";

/**
 * Lease rescue: running jobs whose lease passed (their worker died or
 * stalled) go back to `failed`, runnable now, or to `dead` when no attempts
 * are left, with the reason in their error history. Runs only in the session
 * that wins the transaction-scoped advisory lock $1, so one worker in the
 * cluster does it at a time; at most $2 rows per call.
 *
 * $1 lock key, $2 limit, $3 channel
 */
export const jobRescue = (schema: string): Statement =>
  statement(
    schema,
    "jobRescue",
    `WITH lock AS MATERIALIZED (
  SELECT pg_try_advisory_xact_lock($1) AS held
), expired AS MATERIALIZED (
  SELECT id FROM ${quoteIdent(schema)}.jobs
  WHERE status = 'running' AND locked_until < now() AND (SELECT held FROM lock)
  ORDER BY locked_until
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), upd AS (
  UPDATE ${quoteIdent(schema)}.jobs AS j
  SET status = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
      run_at = CASE WHEN j.attempts >= j.max_attempts THEN j.run_at ELSE now() END,
      finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
      last_error = 'Lease expired: worker ' || j.locked_by || ' stopped heartbeating (it crashed, was killed or stalled)',
      errors = jsonb_path_query_array(
        j.errors || jsonb_build_array(jsonb_build_object(
          'attempt', j.attempts, 'at', now(),
          'message', 'Lease expired: worker ' || j.locked_by || ' stopped heartbeating (it crashed, was killed or stalled)')),
        '$[last-${ERROR_HISTORY_LIMIT - 1} to last]'),
      locked_until = NULL, updated_at = now()
  FROM expired
  WHERE j.id = expired.id
  RETURNING j.id, j.status, j.queue
), wake AS (
  SELECT pg_notify($3, q.queue) FROM (SELECT DISTINCT queue FROM upd WHERE status = 'failed') q
)
SELECT id, status FROM upd WHERE (SELECT count(*) FROM wake) >= 0`,
  );
