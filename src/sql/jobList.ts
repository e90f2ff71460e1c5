import type { JobStatus } from "../states.js";
import { JOB_COLUMNS, type JobRow } from "./jobRow.js";
import { query } from "./query.js";

/** A page request: every filter null means any. */
interface ListParams {
  statuses: readonly JobStatus[] | null;
  queue: string | null;
  type: string | null;
  group: string | null;
  /** The id to continue after (older than), null for the newest. */
  cursor: string | null;
  limit: number;
}

const listText = (s: string, statusFilter: string) =>
  `SELECT ${JOB_COLUMNS} FROM ${s}.jobs
WHERE ${statusFilter}
  AND ($2::text IS NULL OR queue = $2::text)
  AND ($3::text IS NULL OR type = $3::text)
  AND ($4::uuid IS NULL OR id < $4::uuid)
  AND ($6::text IS NULL OR group_key = $6::text)
ORDER BY id DESC
LIMIT $5`;

const listValues = (p: ListParams) => [p.statuses, p.queue, p.type, p.cursor, p.limit, p.group];

/**
 * A page of jobs, newest first, by keyset on the time-ordered id (no OFFSET,
 * so deep pages cost what the first one does).
 */
export const jobList = query<ListParams, JobRow>("jobList", (s) => listText(s, "($1::text[] IS NULL OR status = ANY($1::text[]))"), listValues);

/**
 * The same for dead jobs only (`statuses` is ignored). The status is written
 * into the text so that every plan of it, generic ones included, can read
 * `jobs_dead_idx`; with the status as a parameter, a generic plan walks the
 * primary key and filters, reading the whole history to find a few dead jobs.
 */
export const jobListDead = query<ListParams, JobRow>(
  "jobListDead",
  (s) => listText(s, "status = 'dead' AND ($1::text[] IS NULL OR TRUE)"),
  listValues,
);
