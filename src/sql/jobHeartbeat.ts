import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * Extends the leases of many jobs this worker holds, in one statement. It
 * touches only `locked_until`, which no index covers, so it can be a HOT
 * update. Returns the ids still held; a missing id is a lost lease.
 *
 * $1 ids, $2 worker id, $3 lease ms
 */
export const jobHeartbeat = (schema: string): Statement =>
  statement(
    schema,
    "jobHeartbeat",
    `UPDATE ${quoteIdent(schema)}.jobs
SET locked_until = now() + $3 * interval '1 millisecond'
WHERE id = ANY($1::uuid[]) AND status = 'running' AND locked_by = $2
RETURNING id`,
  );
