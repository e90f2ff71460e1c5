import { CLAIMABLE } from "../states.js";
import { sqlList } from "./ident.js";
import { JOB_COLUMNS, type JobRow } from "./jobRow.js";
import { query } from "./query.js";

/**
 * Claims one job by id for `djps/testing`'s `runJob`: marks it running under
 * `workerId` with the full lease and a start mark, as `jobClaim` does for a
 * job that starts at once. Fenced to the claimable states (`CLAIMABLE`); it
 * ignores `run_at` and paused queues on purpose, since a test that names a
 * job wants that job run now. Returns no row when the job is missing or not
 * claimable; the caller reads the row again to say which.
 *
 * A plain UPDATE by primary key: one row, one index probe, no plan to pin.
 */
export const jobClaimById = query<{ id: string; workerId: string; leaseMs: number }, JobRow>(
  "jobClaimById",
  (s) => `UPDATE ${s}.jobs
SET status = 'running', attempts = attempts + 1, locked_by = $2,
    locked_until = now() + $3::float8 * interval '1 millisecond',
    started_at = now(), updated_at = now()
WHERE id = $1 AND status IN (${sqlList(CLAIMABLE)})
RETURNING ${JOB_COLUMNS}`,
  (p) => [p.id, p.workerId, p.leaseMs],
);
