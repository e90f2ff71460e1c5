import { JOB_STATUSES, type QueueStats } from "../index.js";
import { namingFlags, parseCommandArgs, type Command } from "./command.js";
import { COMMON_FLAGS, COMMON_HELP, COMMON_OPTIONS, output, withQueue } from "./context.js";
import { table } from "./table.js";

const help = `Usage: djps status [--json] [--database-url URL] [--schema NAME]

Shows every queue that holds jobs or is paused: its jobs by state, and
whether it is paused, then the totals.

Options:
${COMMON_HELP}

Example:
  djps status --database-url postgres://app@localhost/app`;

/** The human table of `stats()`. */
export function statusTable(stats: QueueStats): string {
  if (stats.queues.length === 0) return "No jobs and no paused queues.";
  const rows = stats.queues.map((q) => [q.queue + (q.paused ? " (paused)" : ""), ...JOB_STATUSES.map((s) => q.counts[s]), q.total]);
  const total = JOB_STATUSES.reduce((sum, s) => sum + stats.totals[s], 0);
  rows.push(["total", ...JOB_STATUSES.map((s) => stats.totals[s]), total]);
  return table(["queue", ...JOB_STATUSES, "total"], rows);
}

export const statusCommand: Command = {
  name: "status",
  summary: "Show each queue's jobs by state, and which queues are paused",
  help,
  async run(argv) {
    const { values } = parseCommandArgs("status", { args: argv, options: COMMON_OPTIONS });
    if (values.help) {
      console.log(help);
      return 0;
    }
    const stats = await namingFlags(COMMON_FLAGS, () => withQueue(values, (queue) => queue.stats()));
    output(values.json, stats, () => statusTable(stats));
    return 0;
  },
};
