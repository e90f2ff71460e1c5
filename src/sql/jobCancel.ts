import { CANCELABLE } from "../states.js";
import { sqlList } from "./ident.js";
import { JOB_COLUMNS, type JobRow } from "./jobRow.js";
import { query } from "./query.js";

/**
 * Cancels a job: one in a `CANCELABLE` state at once; a `running` one by
 * recording the request (`cancel_requested_at`, kept from an earlier
 * request) and sending `cancel <id>` on `channel` (delivered on commit), so
 * that the worker running it aborts its handler and writes `canceled`.
 * Returns the row as changed, or no row for a job in another state.
 */
export const jobCancel = query<{ id: string; channel: string }, JobRow>(
  "jobCancel",
  (s) => `WITH canceled AS (
  UPDATE ${s}.jobs
  SET status = 'canceled', finished_at = now(), updated_at = now()
  WHERE id = $1 AND status IN (${sqlList(CANCELABLE)})
  RETURNING ${JOB_COLUMNS}
), requested AS (
  UPDATE ${s}.jobs
  SET cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now()
  WHERE id = $1 AND status = 'running'
  RETURNING ${JOB_COLUMNS}
), told AS (
  SELECT pg_notify($2, 'cancel ' || id) FROM requested
)
SELECT * FROM canceled UNION ALL SELECT * FROM requested WHERE (SELECT count(*) FROM told) >= 0`,
  (p) => [p.id, p.channel],
);
