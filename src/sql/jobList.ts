import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { JOB_COLUMNS } from "./jobRow.js";

const listText = (schema: string, statusFilter: string) =>
  `SELECT ${JOB_COLUMNS} FROM ${quoteIdent(schema)}.jobs
WHERE ${statusFilter}
  AND ($2::text IS NULL OR queue = $2::text)
  AND ($3::text IS NULL OR type = $3::text)
  AND ($4::uuid IS NULL OR id < $4::uuid)
ORDER BY id DESC
LIMIT $5`;

/**
 * A page of jobs, newest first, by keyset on the time-ordered id (no OFFSET,
 * so deep pages cost what the first one does).
 * $1 statuses (null: any), $2 queue (null: any), $3 type (null: any),
 * $4 cursor id (null: from the newest), $5 limit
 */
export const jobList = (schema: string): Statement =>
  statement(schema, "jobList", listText(schema, "($1::text[] IS NULL OR status = ANY($1::text[]))"));

/**
 * The same for dead jobs only. The status is written into the text so that
 * every plan of it, generic ones included, can read `jobs_dead_idx`; with the
 * status as a parameter, a generic plan walks the primary key and filters,
 * reading the whole history to find a few dead jobs.
 * $1 ignored (the statuses), then as `jobList`
 */
export const jobListDead = (schema: string): Statement =>
  statement(schema, "jobListDead", listText(schema, "status = 'dead' AND ($1::text[] IS NULL OR TRUE)"));
