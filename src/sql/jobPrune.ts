import { PRUNABLE_STATUSES } from "../states.js";
import { sqlList } from "./ident.js";
import { query } from "./query.js";

/**
 * Retention: deletes at most $6 finished jobs — succeeded, dead or canceled —
 * that finished longer ago than their status's age, oldest id first, in one
 * short transaction. Never touches queued, running or failed jobs.
 *
 * No index on `finished_at` is needed: ids are UUIDv7, time-ordered by
 * creation, and a job cannot finish before it was created, so every job that
 * finished before the newest cutoff has an id below that cutoff's UUIDv7
 * floor (48 bits of its epoch milliseconds, then zeros). The statement walks
 * the primary key from `after` (the last id the previous batch deleted) up to that
 * floor. A job whose id came from a client clock running ahead is kept that
 * much longer; one from a clock running behind is still judged by its
 * `finished_at`, which the database sets.
 *
 * With a lock key, it runs only in the session that wins that
 * transaction-scoped advisory lock, so one worker at a time prunes; `null`
 * (an operator's explicit prune) skips the lock. Rows locked by someone else
 * are skipped, to be pruned by a later pass.
 *
 * Returns one row: how many of each status went, and the greatest id deleted
 * (null when none), the next call's `after`. An age of null keeps that status.
 */
export const jobPrune = query<
  {
    lockKey: number | null;
    after: string;
    succeededMs: number | null;
    deadMs: number | null;
    canceledMs: number | null;
    limit: number;
  },
  { succeeded: number; dead: number; canceled: number; last: string | null }
>(
  "jobPrune",
  (s) => `WITH lock AS MATERIALIZED (
  SELECT $1::bigint IS NULL OR pg_try_advisory_xact_lock($1::bigint) AS held
), cutoff AS MATERIALIZED (
  SELECT now() - $3::float8 * interval '1 millisecond' AS succeeded,
         now() - $4::float8 * interval '1 millisecond' AS dead,
         now() - $5::float8 * interval '1 millisecond' AS canceled
), bound AS MATERIALIZED (
  SELECT (lpad(to_hex(floor(extract(epoch FROM greatest(succeeded, dead, canceled)) * 1000)::bigint), 12, '0')
          || repeat('0', 20))::uuid AS below
  FROM cutoff
), doomed AS MATERIALIZED (
  SELECT j.id FROM ${s}.jobs AS j
  WHERE j.id > $2::uuid AND j.id < (SELECT below FROM bound)
    AND j.status IN (${sqlList(PRUNABLE_STATUSES)})
    AND j.finished_at < CASE j.status
      WHEN 'succeeded' THEN (SELECT succeeded FROM cutoff)
      WHEN 'dead' THEN (SELECT dead FROM cutoff)
      ELSE (SELECT canceled FROM cutoff)
    END
    AND (SELECT held FROM lock)
  ORDER BY j.id
  LIMIT $6
  FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM ${s}.jobs AS j
  USING doomed
  WHERE j.id = doomed.id
  RETURNING j.id, j.status
)
SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
       count(*) FILTER (WHERE status = 'dead')::int AS dead,
       count(*) FILTER (WHERE status = 'canceled')::int AS canceled,
       (SELECT id FROM gone ORDER BY id DESC LIMIT 1) AS last
FROM gone`,
  (p) => [p.lockKey, p.after, p.succeededMs, p.deadMs, p.canceledMs, p.limit],
);
