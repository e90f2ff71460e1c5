/** Which dead jobs a dead-letter batch statement takes, after `after`; null filters match any. */
export interface DeadPickParams {
  after: string;
  queue: string | null;
  type: string | null;
  finishedAfter: Date | null;
  finishedBefore: Date | null;
  /** Only jobs whose last error is exactly this (a dead-letter group). */
  lastError: string | null;
  limit: number;
}

/** The values of `deadPick`'s $1 to $6, in order; the statement places the limit. */
export const deadPickValues = (p: DeadPickParams): unknown[] => [p.after, p.queue, p.type, p.finishedAfter, p.finishedBefore, p.lastError];

/**
 * The `picked` CTE of the dead-letter batch statements: at most `limit` dead
 * jobs matching the filter, oldest id first after $1, walking `jobs_dead_idx`,
 * locked and skipping rows someone else holds.
 *
 * $1 id to continue after, $2 queue or null, $3 type or null,
 * $4 finished at or after (null: any), $5 finished before (null: any),
 * $6 the exact last error (null: any)
 */
export const deadPick = (s: string, limit: string): string => `picked AS MATERIALIZED (
  SELECT id FROM ${s}.jobs
  WHERE status = 'dead' AND id > $1::uuid
    AND ($2::text IS NULL OR queue = $2::text)
    AND ($3::text IS NULL OR type = $3::text)
    AND ($4::timestamptz IS NULL OR finished_at >= $4::timestamptz)
    AND ($5::timestamptz IS NULL OR finished_at < $5::timestamptz)
    AND ($6::text IS NULL OR last_error = $6::text)
  ORDER BY id
  LIMIT ${limit}
  FOR UPDATE SKIP LOCKED
)`;
