import { JOB_COLUMNS, type JobRow } from "./jobRow.js";
import { query } from "./query.js";

/**
 * Marks a job as waited for (see migrations/13_wait.sql): from now on each
 * change of its status or progress sends `job <id>` on the jobs channel.
 * Returns the job as it is, or no row for an unknown id.
 */
export const jobWaitMark = query<{ id: string }, JobRow>(
  "jobWaitMark",
  (s) => `UPDATE ${s}.jobs SET waited = true WHERE id = $1 RETURNING ${JOB_COLUMNS}`,
  (p) => [p.id],
);
