import { plainArray } from "./arrayLiteral.js";
import { query } from "./query.js";

/**
 * Extends the leases of many jobs this worker holds, in one statement, fenced
 * like `jobComplete` on (id, worker id, attempt), and marks the ones whose
 * handler just started (`started_at`, null while a claimed job was only held
 * in the buffer). It touches only columns no index covers, so it can be a HOT
 * update. Returns the ids still held; a missing id is a lost lease.
 *
 * The statement is the schema's `job_heartbeat` function
 * (migrations/5_started_and_probes.sql), whose planner settings pin the plan to one
 * index probe per id, whatever the table's statistics say.
 */
export const jobHeartbeat = query<{ ids: readonly string[]; attempts: readonly number[]; workerId: string; leaseMs: number }, { id: string }>(
  "jobHeartbeat",
  (s) => `SELECT id FROM ${s}.job_heartbeat($1::uuid[], $2::int[], $3::text, $4::float8)`,
  (p) => [plainArray(p.ids), plainArray(p.attempts), p.workerId, p.leaseMs],
);
