import { runner } from "../../db.js";
import type { Queue } from "../../queue.js";
import { jobThroughput, type ThroughputRow } from "../../sql/jobThroughput.js";
import type { Sql } from "../../sql/query.js";
import type { QueueStats, WorkerInfo } from "../../types.js";
import type { Principal } from "../auth.js";
import { inScope, scopedStats } from "../scope.js";

/** Outcomes in one minute, for the throughput chart. */
export interface MinuteCounts {
  /** The start of the minute, ISO 8601. */
  minute: string;
  succeeded: number;
  failed: number;
  dead: number;
}

/** What the overview shows, read once for every open page. */
export interface Snapshot {
  stats: QueueStats;
  workers: WorkerInfo[];
  throughput: ThroughputRow[];
  /** When it was read (the server's clock). */
  at: Date;
}

/** The minutes of the throughput chart: the current one and the 59 before it. */
const MINUTES = 60;

/**
 * Reads the statistics, the workers and the last hour's throughput, at once;
 * or, given the throughput of a recent snapshot, keeps it (it changes by the
 * minute, and costs a pass over the table like the statistics do).
 */
export async function readSnapshot(queue: Queue, throughput?: ThroughputRow[]): Promise<Snapshot> {
  const sql: Sql = { schema: queue.schema, run: runner(queue.pool, true) };
  const [stats, workers, rows] = await Promise.all([queue.stats(), queue.workers(), throughput ?? jobThroughput(sql)]);
  return { stats, workers, throughput: rows, at: new Date() };
}

/** A worker is shown to a key that may see one of its queues (or, for a worker of every queue, any key). */
function workerInScope(principal: Principal, worker: WorkerInfo): boolean {
  return principal.queues === null || worker.queues === null || worker.queues.some((q) => inScope(principal, q));
}

/**
 * The throughput of the queues in scope, one entry per minute of the last
 * hour, oldest first, with the minutes that had nothing as zeros.
 */
export function minuteSeries(principal: Principal, rows: readonly ThroughputRow[], now: Date): MinuteCounts[] {
  const current = Math.floor(now.getTime() / 60_000) * 60_000;
  const first = current - (MINUTES - 1) * 60_000;
  const series: MinuteCounts[] = Array.from({ length: MINUTES }, (_, i) => ({
    minute: new Date(first + i * 60_000).toISOString(),
    succeeded: 0,
    failed: 0,
    dead: 0,
  }));
  for (const row of rows) {
    if (!inScope(principal, row.queue)) continue;
    const index = Math.round((row.minute.getTime() - first) / 60_000);
    const slot = series[index];
    if (slot) slot[row.kind] += row.count;
  }
  return series;
}

/** The snapshot as one principal may see it: only its queues, their workers and their throughput. */
export function scopedSnapshot(principal: Principal, snapshot: Snapshot) {
  return {
    at: snapshot.at.toISOString(),
    stats: scopedStats(principal, snapshot.stats),
    workers: snapshot.workers.filter((w) => workerInScope(principal, w)),
    throughput: minuteSeries(principal, snapshot.throughput, snapshot.at),
  };
}
