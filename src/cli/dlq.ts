import type { DeadJobFilter } from "../index.js";
import { commandGroup, namingFlags, parseCommandArgs, UsageError, type Command } from "./command.js";
import { COMMON_FLAGS, COMMON_HELP, COMMON_OPTIONS, output, withQueue } from "./context.js";
import { parseDuration } from "./duration.js";
import { parseCount } from "./jobs.js";
import { jobsTable } from "./jobTable.js";

const FILTER_OPTIONS = {
  queue: { type: "string" },
  type: { type: "string" },
  "newer-than": { type: "string" },
  "older-than": { type: "string" },
  all: { type: "boolean" },
} as const;

const FILTER_HELP = `  --queue Q           Only dead jobs of this named queue
  --type T            Only dead jobs of this type
  --newer-than DUR    Only jobs that died within DUR (30m, 2h, 7d, ...)
  --older-than DUR    Only jobs that died more than DUR ago
  --all               Every dead job (required when no other filter is given)`;

const flagFor: Record<string, string> = {
  ...COMMON_FLAGS,
  "filter.queue": "--queue",
  "filter.type": "--type",
  "filter.finishedAfter": "--newer-than",
  "filter.finishedBefore": "--older-than",
  "options.queue": "--queue",
  "options.type": "--type",
  "options.limit": "--limit",
  "options.cursor": "--cursor",
};

type FilterValues = { queue?: string | undefined; type?: string | undefined; "newer-than"?: string | undefined; "older-than"?: string | undefined; all?: boolean | undefined };

function filterOf(values: FilterValues, command: string): DeadJobFilter {
  const now = Date.now();
  const filter: DeadJobFilter = {};
  if (values.queue !== undefined) filter.queue = values.queue;
  if (values.type !== undefined) filter.type = values.type;
  if (values["newer-than"] !== undefined) filter.finishedAfter = new Date(now - parseDuration(values["newer-than"], "--newer-than", command));
  if (values["older-than"] !== undefined) filter.finishedBefore = new Date(now - parseDuration(values["older-than"], "--older-than", command));
  if (values.all) filter.all = true;
  if (Object.keys(filter).length === 0) {
    throw new UsageError(`${command}: give a filter (--queue, --type, --newer-than, --older-than) or --all`, command);
  }
  return filter;
}

const list: Command = {
  name: "list",
  summary: "List dead jobs, newest first, with their last error",
  help: `Usage: djps dlq list [--queue Q] [--type T] [--limit N] [--cursor ID] [options]

Lists dead jobs (attempts used up, or failed permanently), newest first.
'djps jobs show ID' shows one with its whole error history; --json includes
every job's error history.

Options:
  --queue Q           Only this named queue
  --type T            Only this job type
  --limit N           Jobs per page, 1 to 1000 (default: 50)
  --cursor ID         Continue after this job id (from the previous page)
${COMMON_HELP}`,
  async run(argv) {
    const command = "dlq list";
    const { values } = parseCommandArgs(command, {
      args: argv,
      options: { ...COMMON_OPTIONS, queue: { type: "string" }, type: { type: "string" }, limit: { type: "string" }, cursor: { type: "string" } },
    });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    const page = await namingFlags(flagFor, () =>
      withQueue(values, (queue) =>
        queue.listJobs({ status: "dead", queue: values.queue, type: values.type, limit: parseCount(values.limit, "--limit", command) ?? 50, cursor: values.cursor }),
      ),
    );
    output(values.json, page, () => jobsTable(page.jobs) + (page.nextCursor ? `\nMore: --cursor ${page.nextCursor}` : ""));
    return 0;
  },
};

/** retry and purge: a filter, one call on the Queue, a count. */
function byFilter(name: "retry" | "purge", summary: string, details: string, example: string): Command {
  const command = `dlq ${name}`;
  return {
    name,
    summary,
    help: `Usage: djps dlq ${name} (--queue Q | --type T | --newer-than DUR | --older-than DUR | --all) [options]

${details}

Options:
${FILTER_HELP}
${COMMON_HELP}

Example:
  ${example}`,
    async run(argv) {
      const { values } = parseCommandArgs(command, { args: argv, options: { ...COMMON_OPTIONS, ...FILTER_OPTIONS } });
      if (values.help) {
        console.log(this.help);
        return 0;
      }
      const filter = filterOf(values, command);
      const result = await namingFlags(flagFor, () =>
        withQueue<{ retried: number } | { purged: number }>(values, (queue) => (name === "retry" ? queue.retryDead(filter) : queue.purgeDead(filter))),
      );
      const n = "retried" in result ? result.retried : result.purged;
      const verb = name === "retry" ? "Retried" : "Purged";
      output(values.json, result, () => `${verb} ${n.toLocaleString("en-US")} dead job${n === 1 ? "" : "s"}.`);
      return 0;
    },
  };
}

const retry = byFilter(
  "retry",
  "Put dead jobs matching a filter back to queued",
  `Puts the dead jobs that match every given filter back to queued, runnable
now, each with one more attempt, and wakes the workers. Prints how many.`,
  "djps dlq retry --type send_email --newer-than 2h",
);

const purge = byFilter(
  "purge",
  "Delete dead jobs matching a filter",
  `Deletes the dead jobs that match every given filter, for good. Prints how
many. Without a filter it refuses; --all deletes every dead job.`,
  "djps dlq purge --queue imports --older-than 7d",
);

export const dlqCommand: Command = commandGroup(
  "dlq",
  "List, retry and purge dead jobs",
  "The dead-letter tools: jobs whose attempts ran out or that failed permanently.",
  [list, retry, purge],
);
