import { RETRYABLE } from "../states.js";
import { sqlList } from "./ident.js";
import { JOB_COLUMNS, type JobRow } from "./jobRow.js";
import { query } from "./query.js";

/**
 * Puts a job whose state is one of `RETRYABLE` back to `queued`, runnable
 * now, and wakes its queue's workers. Attempts are kept (the history stays
 * true); when they are used up, `max_attempts` grows by one so the job gets
 * exactly one more try.
 */
export const jobRetry = query<{ id: string; channel: string }, JobRow>(
  "jobRetry",
  (s) => `WITH upd AS (
  UPDATE ${s}.jobs
  SET status = 'queued', run_at = now(), finished_at = NULL, cancel_requested_at = NULL, updated_at = now(),
      max_attempts = GREATEST(max_attempts, attempts + 1)
  WHERE id = $1 AND status IN (${sqlList(RETRYABLE)})
  RETURNING ${JOB_COLUMNS}
), wake AS (
  SELECT pg_notify($2, queue) FROM upd
)
SELECT * FROM upd WHERE (SELECT count(*) FROM wake) >= 0`,
  (p) => [p.id, p.channel],
);
