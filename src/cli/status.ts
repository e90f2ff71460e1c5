import { JOB_STATUSES, type QueueStats, type RecentCounts, type WorkerInfo } from "../index.js";
import { namingFlags, parseCommandArgs, type Command } from "./command.js";
import { limitsText } from "./limits.js";
import { COMMON_FLAGS, COMMON_HELP, COMMON_OPTIONS, output, withQueue } from "./context.js";
import { table } from "./table.js";

const help = `Usage: djps status [--json] [--database-url URL] [--schema NAME]

Shows every queue that holds jobs, is paused or is limited: its jobs by
state, whether it is paused, its concurrency and rate limits, its lag (how long the oldest job that could run now has been
waiting), and the jobs that succeeded and failed (attempts that will be
retried, plus dead jobs) in the last hour; then the totals. Then the
workers: each with its host and process, queues, handlers running out of
its concurrency, and when it last reported (workers report every third of
their lease; one that died stays listed for an hour). --json adds the last
minute's counts.

Options:
${COMMON_HELP}

Example:
  djps status --database-url postgres://app@localhost/app`;

/** The human table of `stats()`; a `limits` column when some queue is limited. */
export function statusTable(stats: QueueStats): string {
  if (stats.queues.length === 0) return "No jobs and no paused queues.";
  const limited = stats.queues.some((q) => q.limits !== null);
  const row = (name: string, limits: string | null, counts: QueueStats["totals"], total: number, lagMs: number | null, lastHour: RecentCounts) => [
    name,
    ...(limited ? [limits] : []),
    ...JOB_STATUSES.map((s) => counts[s]),
    total,
    lagMs === null ? null : `${(lagMs / 1000).toFixed(1)}s`,
    lastHour.succeeded,
    lastHour.failed + lastHour.dead,
  ];
  const rows = stats.queues.map((q) => row(q.queue + (q.paused ? " (paused)" : ""), q.limits ? limitsText(q.limits) : null, q.counts, q.total, q.lagMs, q.lastHour));
  const total = JOB_STATUSES.reduce((sum, s) => sum + stats.totals[s], 0);
  rows.push(row("total", null, stats.totals, total, stats.lagMs, stats.lastHour));
  return table(["queue", ...(limited ? ["limits"] : []), ...JOB_STATUSES, "total", "lag", "ok/1h", "failed/1h"], rows);
}

/** The human table of `workers()`: how long ago each last reported, from `now`. */
export function workersTable(workers: readonly WorkerInfo[], now: Date): string {
  if (workers.length === 0) return "No workers running.";
  const rows = workers.map((w) => [
    w.id,
    `${w.host}:${w.pid}`,
    w.queues === null ? "(all)" : w.queues.join(","),
    `${w.running}/${w.concurrency}`,
    `${Math.max(0, (now.getTime() - w.seenAt.getTime()) / 1000).toFixed(0)}s ago`,
  ]);
  return table(["worker", "process", "queues", "running", "seen"], rows);
}

export const statusCommand: Command = {
  name: "status",
  summary: "Show each queue's jobs by state, and which queues are paused or limited",
  help,
  async run(argv) {
    const { values } = parseCommandArgs("status", { args: argv, options: COMMON_OPTIONS });
    if (values.help) {
      console.log(help);
      return 0;
    }
    const { stats, workers } = await namingFlags(COMMON_FLAGS, () =>
      withQueue(values, async (queue) => {
        const [stats, workers] = await Promise.all([queue.stats(), queue.workers()]);
        return { stats, workers };
      }),
    );
    output(values.json, { ...stats, workers }, () => `${statusTable(stats)}\n\n${workersTable(workers, new Date())}`);
    return 0;
  },
};
