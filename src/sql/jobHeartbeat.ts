import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/**
 * Extends the leases of many jobs this worker holds, in one statement, fenced
 * like `jobComplete` on (id, worker id, attempt). It touches only
 * `locked_until`, which no index covers, so it can be a HOT update. Returns
 * the ids still held; a missing id is a lost lease.
 *
 * $1 ids, $2 attempts, $3 worker id, $4 lease ms
 */
export const jobHeartbeat = (schema: string): Statement =>
  statement(
    schema,
    "jobHeartbeat",
    `UPDATE ${quoteIdent(schema)}.jobs AS j
SET locked_until = now() + $4 * interval '1 millisecond'
FROM unnest($1::uuid[], $2::int[]) AS u(id, attempt)
WHERE j.id = u.id AND j.status = 'running' AND j.locked_by = $3 AND j.attempts = u.attempt
RETURNING j.id`,
  );
