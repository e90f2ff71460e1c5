import { query } from "./query.js";

/**
 * Puts many running jobs back to `queued` at now + delay without spending an
 * attempt: `attempts` stays monotonic (it fences stale workers) and
 * `max_attempts` grows by one instead. Used for snoozes and for jobs released
 * at shutdown. Fenced like `jobComplete`; returns changed ids and run_at.
 *
 * The statement is the schema's `job_snooze` function
 * (migrations/5_started_and_probes.sql), whose planner settings pin the plan to one
 * index probe per id, whatever the table's statistics say.
 */
export const jobSnooze = query<
  { ids: readonly string[]; attempts: readonly number[]; delaysMs: readonly number[]; workerId: string; channel: string },
  { id: string; run_at: Date }
>(
  "jobSnooze",
  (s) => `SELECT id, run_at FROM ${s}.job_snooze($1::uuid[], $2::int[], $3::float8[], $4::text, $5::text)`,
  (p) => [p.ids, p.attempts, p.delaysMs, p.workerId, p.channel],
);
