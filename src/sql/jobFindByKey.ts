import { JOB_COLUMNS, type JobRow } from "./jobRow.js";
import { query } from "./query.js";

/**
 * The jobs holding an idempotency key, whatever their type, at most `limit`.
 * Keys are unique per type, and `jobs_idempotency_idx` leads with the type,
 * so the statement first walks the index's distinct types (one probe each,
 * a "skip scan" written out as a recursive query: PostgreSQL 15 does not do
 * it on its own) and then probes (type, key) for each: its cost follows the
 * number of job types, not of jobs.
 */
export const jobFindByKey = query<{ key: string; limit: number }, JobRow>(
  "jobFindByKey",
  (s) => `WITH RECURSIVE types AS (
  (SELECT type FROM ${s}.jobs WHERE idempotency_key IS NOT NULL ORDER BY type LIMIT 1)
  UNION ALL
  SELECT (SELECT j.type FROM ${s}.jobs AS j WHERE j.idempotency_key IS NOT NULL AND j.type > types.type ORDER BY j.type LIMIT 1)
  FROM types WHERE types.type IS NOT NULL
)
SELECT ${JOB_COLUMNS} FROM ${s}.jobs
WHERE idempotency_key IS NOT NULL AND idempotency_key = $1::text
  AND type IN (SELECT type FROM types WHERE type IS NOT NULL)
ORDER BY id DESC
LIMIT $2`,
  (p) => [p.key, p.limit],
);
