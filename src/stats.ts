import type { QueueLimitsRow } from "./sql/queueLimits.js";
import type { queueStats } from "./sql/queueStats.js";
import { JOB_STATUSES } from "./states.js";
import type { QueueLimits, QueueLimitsState, QueueState, QueueStats, QueueStatsEntry, RecentCounts, StatusCounts } from "./types.js";

type StatsRow = Awaited<ReturnType<typeof queueStats>>[number];

const zero = (): StatusCounts => Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts;
const none = (): RecentCounts => ({ succeeded: 0, failed: 0, dead: 0, canceled: 0 });

/** A queue's limits from its row in `queues`. */
export function limitsFromRow(row: QueueLimitsRow): QueueLimits {
  return {
    concurrency: row.concurrency_limit,
    rate: row.rate_limit === null || row.rate_interval_ms === null ? null : { limit: row.rate_limit, intervalMs: row.rate_interval_ms },
    group: row.group_concurrency === null ? null : { concurrency: row.group_concurrency },
  };
}

/** `queue.stats()` from the rows of `queueStats` (per queue and status), the paused queues and the limited ones. */
export function statsFromRows(rows: readonly StatsRow[], paused: readonly QueueState[], limited: readonly QueueLimitsState[] = []): QueueStats {
  const pausedNames = new Set(paused.map((p) => p.queue));
  const limitsOf = new Map(limited.map(({ queue, ...limits }) => [queue, limits]));
  const queues = new Map<string, QueueStatsEntry>();
  const entryOf = (queue: string) => {
    let entry = queues.get(queue);
    if (!entry) {
      entry = { queue, counts: zero(), total: 0, paused: pausedNames.has(queue), limits: limitsOf.get(queue) ?? null, lagMs: null, lastMinute: none(), lastHour: none() };
      queues.set(queue, entry);
    }
    return entry;
  };
  const all = { totals: zero(), lagMs: null as number | null, lastMinute: none(), lastHour: none() };
  for (const row of rows) {
    const status = row.status;
    const entry = entryOf(row.queue);
    entry.counts[status] += row.count;
    entry.total += row.count;
    all.totals[status] += row.count;
    if (row.lag_ms !== null) {
      const lag = Math.max(0, Math.round(row.lag_ms));
      entry.lagMs = Math.max(entry.lagMs ?? 0, lag);
      all.lagMs = Math.max(all.lagMs ?? 0, lag);
    }
    if (status in entry.lastMinute) {
      const recent = status as keyof RecentCounts;
      entry.lastMinute[recent] += row.last_minute;
      entry.lastHour[recent] += row.last_hour;
      all.lastMinute[recent] += row.last_minute;
      all.lastHour[recent] += row.last_hour;
    }
  }
  // A paused or limited queue shows even when it holds no jobs.
  for (const name of pausedNames) entryOf(name);
  for (const name of limitsOf.keys()) entryOf(name);
  const list = [...queues.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  return { queues: list, ...all };
}
