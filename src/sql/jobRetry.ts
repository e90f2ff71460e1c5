import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { JOB_COLUMNS } from "./jobRow.js";

/** The states `retry` accepts. */
export const RETRYABLE = ["failed", "dead", "canceled"] as const;

/**
 * Puts a failed, dead or canceled job back to `queued`, runnable now. Attempts
 * are kept (the history stays true); when they are used up, `max_attempts`
 * grows by one so the job gets exactly one more try. $1 id, $2 channel
 */
export const jobRetry = (schema: string): Statement =>
  statement(
    schema,
    "jobRetry",
    `WITH upd AS (
  UPDATE ${quoteIdent(schema)}.jobs
  SET status = 'queued', run_at = now(), finished_at = NULL, updated_at = now(),
      max_attempts = GREATEST(max_attempts, attempts + 1)
  WHERE id = $1 AND status IN ('failed', 'dead', 'canceled')
  RETURNING ${JOB_COLUMNS}
), wake AS (
  SELECT pg_notify($2, queue) FROM upd
)
SELECT * FROM upd WHERE (SELECT count(*) FROM wake) >= 0`,
  );
