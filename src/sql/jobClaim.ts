import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { jobColumnsOf } from "./jobRow.js";

/**
 * Claims up to $3 claimable jobs in claim order (priority DESC, run_at, id),
 * skipping rows other workers hold, and marks them running under this worker
 * with a lease. The MATERIALIZED CTE fences the selection: the planner cannot
 * fold it into the UPDATE and lock or update more rows than the limit.
 *
 * $1 queues (null: all), $2 job types this worker handles, $3 limit,
 * $4 worker id, $5 lease ms
 */
export const jobClaim = (schema: string): Statement =>
  statement(
    schema,
    "jobClaim",
    `WITH picked AS MATERIALIZED (
  SELECT id FROM ${quoteIdent(schema)}.jobs
  WHERE status IN ('queued', 'failed') AND run_at <= now()
    AND ($1::text[] IS NULL OR queue = ANY($1::text[]))
    AND type = ANY($2::text[])
  ORDER BY priority DESC, run_at, id
  LIMIT $3
  FOR UPDATE SKIP LOCKED
)
UPDATE ${quoteIdent(schema)}.jobs AS j
SET status = 'running', attempts = j.attempts + 1, locked_by = $4,
    locked_until = now() + $5 * interval '1 millisecond',
    started_at = now(), updated_at = now()
FROM picked
WHERE j.id = picked.id
RETURNING ${jobColumnsOf("j")}`,
  );

