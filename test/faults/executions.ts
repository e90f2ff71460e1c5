import type pg from "pg";
import type { JobContext } from "../../src/index.js";

/**
 * The side table in which fault-suite handlers record every execution, so the
 * checker can see exactly what ran, where, and under which lease.
 */
export const executionsTableCreate = (schema: string) => `CREATE TABLE IF NOT EXISTS "${schema}".executions (
  id          bigserial PRIMARY KEY,
  job_id      uuid        NOT NULL,
  attempt     integer     NOT NULL,
  worker_id   text        NOT NULL,
  claimed_at  timestamptz NOT NULL,
  lease_until timestamptz NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  outcome     text,
  -- One execution is one claim: recording it again (a retried insert whose
  -- first commit went through just before a connection died) finds the row.
  UNIQUE (job_id, attempt, worker_id, claimed_at)
)`;

/** Retries a statement through connection faults and server restarts, for up to 30 s. */
async function persist<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function executionStart(pool: pg.Pool, schema: string, ctx: JobContext, workerId: string): Promise<number> {
  const { rows } = await persist(() =>
    pool.query(
      `INSERT INTO "${schema}".executions (job_id, attempt, worker_id, claimed_at, lease_until) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (job_id, attempt, worker_id, claimed_at) DO UPDATE SET job_id = EXCLUDED.job_id RETURNING id`,
      [ctx.job.id, ctx.attempt, workerId, ctx.job.startedAt, ctx.job.lockedUntil],
    ),
  );
  return rows[0].id;
}

export async function executionFinish(pool: pg.Pool, schema: string, id: number, outcome: "returned" | "threw" | "aborted"): Promise<void> {
  await persist(() =>
    pool.query(`UPDATE "${schema}".executions SET finished_at = clock_timestamp(), outcome = $2 WHERE id = $1`, [id, outcome]),
  );
}
