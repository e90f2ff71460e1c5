import { query } from "./query.js";

/** One bucket of `jobThroughput`: how many jobs of a queue reached `kind` in one minute. */
export interface ThroughputRow {
  queue: string;
  /** The start of the minute. */
  minute: Date;
  kind: "succeeded" | "failed" | "dead";
  count: number;
}

/**
 * Outcomes per queue and minute over the last hour (the current minute and
 * the 59 before it): jobs that succeeded or died by `finished_at`, and failed
 * attempts by the `at` of each entry in the jobs' error history (so a job
 * that failed twice and then succeeded counts two failures and one success).
 *
 * Every row with an outcome in the window was updated in it, so `updated_at`
 * filters the rows before their error history is unpacked. The table is read
 * in one sequential pass, like `queueStats`; there is no index on
 * `updated_at` or `finished_at`: each would cost the hot path an index entry
 * on every state change (see docs/dashboard.md for the measured cost).
 */
export const jobThroughput = query<void, ThroughputRow>(
  "jobThroughput",
  (s) => `WITH since AS (SELECT date_trunc('minute', now()) - interval '59 minutes' AS at)
SELECT j.queue, date_trunc('minute', x.at) AS minute, x.kind, count(*)::int AS count
FROM ${s}.jobs AS j
CROSS JOIN since
CROSS JOIN LATERAL (
  SELECT j.finished_at AS at, j.status AS kind WHERE j.status IN ('succeeded', 'dead')
  UNION ALL
  SELECT (e->>'at')::timestamptz, 'failed' FROM jsonb_array_elements(j.errors) AS e
) AS x
WHERE j.updated_at >= since.at AND x.at >= since.at
GROUP BY 1, 2, 3
ORDER BY 2`,
  () => [],
);
