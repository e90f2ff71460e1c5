/**
 * Checks for limit tests: how many executions overlapped at most, and a
 * sampler of a queue's running jobs as the database counts them.
 */
import type pg from "pg";
import type { Execution } from "./processes.js";

/**
 * The most executions running at one instant, from their recorded start and
 * end (database clock). An execution that never ended counts as running until
 * `openUntil` (or for ever).
 */
export function maxOverlap(executions: readonly Execution[], openUntil = Infinity): number {
  const edges: Array<[number, number]> = [];
  for (const e of executions) {
    edges.push([e.started_at.getTime(), 1]);
    edges.push([e.finished_at?.getTime() ?? openUntil, -1]);
  }
  // Ends before starts at the same instant: an execution that ended when the next began did not overlap it.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) {
    now += step;
    most = Math.max(most, now);
  }
  return most;
}

/** A sampler's handle: the largest value seen so far, and `stop()`, which resolves to it. */
export interface MaxSampler {
  stop(): Promise<number>;
  readonly most: number;
}

/** Runs a query returning one row `{ n }` until stopped, every couple of milliseconds, and keeps the largest `n`. */
function sampleMax(pool: pg.Pool, text: string, values: unknown[]): MaxSampler {
  let most = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await pool.query(text, values);
      most = Math.max(most, rows[0].n);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    get most() {
      return most;
    },
    async stop() {
      stopped = true;
      await loop;
      return most;
    },
  };
}

/**
 * Samples, until stopped, how many jobs of `queue` the database holds running
 * under a lease that has not passed (what a concurrency limit counts), and
 * keeps the largest count seen.
 */
export function runningSampler(pool: pg.Pool, schema: string, queue: string): MaxSampler {
  return sampleMax(pool, `SELECT count(*)::int AS n FROM "${schema}".jobs WHERE queue = $1 AND status = 'running' AND locked_until > now()`, [queue]);
}

/**
 * The largest number of jobs of `queue` whose `started_at` falls in one window
 * `(t - intervalMs, t]`, over every t (the windows that matter end at a start).
 */
export async function maxStartsPerWindow(pool: pg.Pool, schema: string, queue: string, intervalMs: number): Promise<number> {
  const { rows } = await pool.query(
    `SELECT coalesce(max(n), 0)::int AS most FROM (
       SELECT (SELECT count(*) FROM "${schema}".jobs b
               WHERE b.queue = a.queue AND b.started_at IS NOT NULL
                 AND b.started_at <= a.started_at AND b.started_at > a.started_at - $2 * interval '1 millisecond') AS n
       FROM "${schema}".jobs a WHERE a.queue = $1 AND a.started_at IS NOT NULL) w`,
    [queue, intervalMs],
  );
  return rows[0].most;
}

/** An execution with its job's group and the `seq` of its payload (when it has one). */
export interface GroupedExecution extends Execution {
  group_key: string | null;
  seq: number;
}

/** Every execution joined with its job's group key and payload `seq`. */
export async function groupedExecutions(pool: pg.Pool, schema: string): Promise<GroupedExecution[]> {
  const { rows } = await pool.query(
    `SELECT e.*, j.group_key, coalesce((j.payload->>'seq')::int, -1) AS seq
     FROM "${schema}".executions e JOIN "${schema}".jobs j ON j.id = e.job_id ORDER BY e.started_at`,
  );
  return rows;
}

/**
 * Samples, until stopped, the most jobs of one group of `queue` the database
 * holds running at once (lease passed or not: a group limit counts them all).
 */
export function groupSampler(pool: pg.Pool, schema: string, queue: string): MaxSampler {
  return sampleMax(
    pool,
    `SELECT coalesce(max(n), 0)::int AS n FROM (
       SELECT count(*) AS n FROM "${schema}".jobs WHERE queue = $1 AND status = 'running' AND group_key IS NOT NULL GROUP BY group_key) g`,
    [queue],
  );
}
