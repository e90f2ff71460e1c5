import type { queueStats } from "./sql/queueStats.js";
import { JOB_STATUSES } from "./states.js";
import type { QueueState, QueueStats, QueueStatsEntry, RecentCounts, StatusCounts } from "./types.js";

type StatsRow = Awaited<ReturnType<typeof queueStats>>[number];

const zero = (): StatusCounts => Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts;
const none = (): RecentCounts => ({ succeeded: 0, failed: 0, dead: 0, canceled: 0 });

/** `queue.stats()` from the rows of `queueStats` (per queue and status) and the paused queues. */
export function statsFromRows(rows: readonly StatsRow[], paused: readonly QueueState[]): QueueStats {
  const pausedNames = new Set(paused.map((p) => p.queue));
  const queues = new Map<string, QueueStatsEntry>();
  const entryOf = (queue: string) => {
    let entry = queues.get(queue);
    if (!entry) {
      entry = { queue, counts: zero(), total: 0, paused: pausedNames.has(queue), lagMs: null, lastMinute: none(), lastHour: none() };
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
  // A paused queue shows even when it holds no jobs.
  for (const name of pausedNames) entryOf(name);
  const list = [...queues.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  return { queues: list, ...all };
}
