import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { deadPick } from "./deadPick.js";

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
    `WITH ${deadPick(schema, "$6")}, gone AS (
  DELETE FROM ${quoteIdent(schema)}.jobs AS j
  USING picked
  WHERE j.id = picked.id
  RETURNING j.id
)
SELECT count(*)::int AS count, (SELECT id FROM gone ORDER BY id DESC LIMIT 1) AS last FROM gone`,
  );
