import { JOB_STATUSES } from "../states.js";
import type { QueueStats, RecentCounts } from "../types.js";
import type { Family, Sample } from "./exposition.js";

/** The database-wide gauges of `queue.stats()`: jobs by queue and status, lag, paused, limits, recent outcomes. */
export function queueFamilies(stats: QueueStats): Family[] {
  const jobs: Sample[] = [];
  const lag: Sample[] = [];
  const paused: Sample[] = [];
  const recent: Sample[] = [];
  const concurrencyLimit: Sample[] = [];
  const rateLimit: Sample[] = [];
  const rateInterval: Sample[] = [];
  for (const q of stats.queues) {
    if (q.limits?.concurrency != null) concurrencyLimit.push({ labels: { queue: q.queue }, value: q.limits.concurrency });
    if (q.limits?.rate) {
      rateLimit.push({ labels: { queue: q.queue }, value: q.limits.rate.limit });
      rateInterval.push({ labels: { queue: q.queue }, value: q.limits.rate.intervalMs / 1000 });
    }
    for (const status of JOB_STATUSES) jobs.push({ labels: { queue: q.queue, status }, value: q.counts[status] });
    lag.push({ labels: { queue: q.queue }, value: (q.lagMs ?? 0) / 1000 });
    paused.push({ labels: { queue: q.queue }, value: q.paused ? 1 : 0 });
    for (const [window, counts] of [["1m", q.lastMinute], ["1h", q.lastHour]] as const) {
      for (const outcome of Object.keys(counts) as Array<keyof RecentCounts>) {
        recent.push({ labels: { queue: q.queue, outcome, window }, value: counts[outcome] });
      }
    }
  }
  return [
    { name: "djps_jobs", help: "Jobs in the table, by queue and status.", type: "gauge", samples: jobs },
    { name: "djps_queue_lag_seconds", help: "Age of the oldest job that could be claimed now (0 when none waits).", type: "gauge", samples: lag },
    { name: "djps_queue_paused", help: "1 when the queue is paused.", type: "gauge", samples: paused },
    { name: "djps_queue_concurrency_limit", help: "The queue's cluster-wide limit of running jobs (limited queues only).", type: "gauge", samples: concurrencyLimit },
    { name: "djps_queue_rate_limit_jobs", help: "Jobs the queue may start per rate interval (rate-limited queues only).", type: "gauge", samples: rateLimit },
    { name: "djps_queue_rate_limit_interval_seconds", help: "The queue's rate interval (rate-limited queues only).", type: "gauge", samples: rateInterval },
    { name: "djps_queue_recent_jobs", help: "Jobs that succeeded, failed (to be retried), died or were canceled within the window.", type: "gauge", samples: recent },
  ];
}
