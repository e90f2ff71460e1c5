import { CANCELABLE } from "../states.js";
import { sqlList } from "./ident.js";
import { JOB_COLUMNS, type JobRow } from "./jobRow.js";
import { query } from "./query.js";

/** Cancels a job if its state is one of `CANCELABLE`; returns no row otherwise. */
export const jobCancel = query<{ id: string }, JobRow>(
  "jobCancel",
  (s) => `UPDATE ${s}.jobs
SET status = 'canceled', finished_at = now(), updated_at = now()
WHERE id = $1 AND status IN (${sqlList(CANCELABLE)})
RETURNING ${JOB_COLUMNS}`,
  (p) => [p.id],
);
