import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { JOB_COLUMNS } from "./jobRow.js";

/** The states `cancel` accepts: a running job is the worker's to finish. */
export const CANCELABLE = ["queued", "failed"] as const;

/** Cancels a job if it is queued or failed; returns no row otherwise. $1 id */
export const jobCancel = (schema: string): Statement =>
  statement(
    schema,
    "jobCancel",
    `UPDATE ${quoteIdent(schema)}.jobs
SET status = 'canceled', finished_at = now(), updated_at = now()
WHERE id = $1 AND status IN ('queued', 'failed')
RETURNING ${JOB_COLUMNS}`,
  );
