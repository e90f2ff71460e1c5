import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * Dead-letter purge by filter: deletes at most $6 dead jobs matching the
 * filter, oldest id first, walking `jobs_dead_idx` from $1 (the last id the
 * previous batch deleted). Rows locked by someone else are skipped.
 *
 * Returns one row: how many were deleted, and the greatest id deleted (null
 * when none), the next call's $1.
 *
 * $1 id to continue after, $2 queue or null, $3 type or null,
 * $4 finished at or after (null: any), $5 finished before (null: any), $6 limit
 */
export const jobDeadPurge = (schema: string): Statement =>
  statement(
    schema,
    "jobDeadPurge",
    `WITH picked AS MATERIALIZED (
  SELECT id FROM ${quoteIdent(schema)}.jobs
  WHERE status = 'dead' AND id > $1::uuid
    AND ($2::text IS NULL OR queue = $2::text)
    AND ($3::text IS NULL OR type = $3::text)
    AND ($4::timestamptz IS NULL OR finished_at >= $4::timestamptz)
    AND ($5::timestamptz IS NULL OR finished_at < $5::timestamptz)
  ORDER BY id
  LIMIT $6
  FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM ${quoteIdent(schema)}.jobs AS j
  USING picked
  WHERE j.id = picked.id
  RETURNING j.id
)
SELECT count(*)::int AS count, (SELECT id FROM gone ORDER BY id DESC LIMIT 1) AS last FROM gone`,
  );
