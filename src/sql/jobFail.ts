import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/** How many entries of error history a job keeps (the newest). */
export const ERROR_HISTORY_LIMIT = 10;

/**
 * Records failed attempts for many jobs in one statement, fenced like
 * `jobComplete`. A job with attempts left (and not failed permanently) goes
 * to `failed` with run_at moved out by its delay; otherwise to `dead`.
 * Returns each changed id with its new status and run_at.
 *
 * $1 ids, $2 attempts, $3 messages, $4 stacks, $5 retry delays ms,
 * $6 permanent flags, $7 worker id
 */
export const jobFail = (schema: string): Statement =>
  statement(
    schema,
    "jobFail",
    `UPDATE ${quoteIdent(schema)}.jobs AS j
SET status = CASE WHEN u.permanent OR j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
    run_at = CASE WHEN u.permanent OR j.attempts >= j.max_attempts THEN j.run_at
                  ELSE now() + u.delay_ms * interval '1 millisecond' END,
    finished_at = CASE WHEN u.permanent OR j.attempts >= j.max_attempts THEN now() END,
    last_error = u.message,
    errors = jsonb_path_query_array(
      j.errors || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
        'attempt', j.attempts, 'at', now(), 'message', u.message, 'stack', u.stack))),
      '$[last-${ERROR_HISTORY_LIMIT - 1} to last]'),
    locked_until = NULL, updated_at = now()
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::float8[], $6::bool[])
  AS u(id, attempt, message, stack, delay_ms, permanent)
WHERE j.id = u.id AND j.status = 'running' AND j.locked_by = $7 AND j.attempts = u.attempt
RETURNING j.id, j.status, j.run_at`,
  );
