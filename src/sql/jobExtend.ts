import { plainArray } from "./arrayLiteral.js";
import { query } from "./query.js";

/**
 * `jobHeartbeat`, and for each job still held whether its cancel was
 * requested (`queue.cancel()` on a running job): a worker that missed the
 * notification learns of it here. The statement is the schema's `job_extend`
 * function (migrations/12_cancel_running.sql), planned like `job_heartbeat`.
 */
export const jobExtend = query<{ ids: readonly string[]; attempts: readonly number[]; workerId: string; leaseMs: number }, { id: string; cancel: boolean }>(
  "jobExtend",
  (s) => `SELECT id, cancel FROM ${s}.job_extend($1::uuid[], $2::int[], $3::text, $4::float8)`,
  (p) => [plainArray(p.ids), plainArray(p.attempts), p.workerId, p.leaseMs],
);
