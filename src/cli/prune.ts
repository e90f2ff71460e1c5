import type { PrunableStatus } from "../index.js";
import { namingFlags, parseCommandArgs, UsageError, type Command } from "./command.js";
import { COMMON_FLAGS, COMMON_HELP, COMMON_OPTIONS, output, withQueue } from "./context.js";
import { parseDuration } from "./duration.js";

const STATUSES = ["succeeded", "dead", "canceled"];

const help = `Usage: djps prune [--older-than DUR] [--status S]... [options]

Deletes finished jobs (succeeded, dead, canceled) in batches of 1,000. Without
--older-than, each state's retention default applies: succeeded after 3 days,
dead and canceled after 14 days. Workers prune on their own; this is for
scripts and for a first clean-up. Prints how many jobs of each state went.

Options:
  --older-than DUR    Delete jobs that finished more than DUR ago (30m, 12h, 7d, ...)
  --status S          Only this state (succeeded, dead, canceled); repeat for several
${COMMON_HELP}

Example:
  djps prune --status succeeded --older-than 1d`;

const flagFor: Record<string, string> = { ...COMMON_FLAGS, "options.olderThanMs": "--older-than", "options.statuses": "--status" };

export const pruneCommand: Command = {
  name: "prune",
  summary: "Delete finished jobs older than their retention age",
  help,
  async run(argv) {
    const command = "prune";
    const { values } = parseCommandArgs(command, {
      args: argv,
      options: { ...COMMON_OPTIONS, "older-than": { type: "string" }, status: { type: "string", multiple: true } },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    for (const s of values.status ?? []) {
      if (!STATUSES.includes(s)) throw new UsageError(`${command}: --status expects one of ${STATUSES.join(", ")}, got '${s}'`, command);
    }
    const olderThanMs = values["older-than"] === undefined ? undefined : parseDuration(values["older-than"], "--older-than", command);
    const statuses = values.status as PrunableStatus[] | undefined;
    const result = await namingFlags(flagFor, () => withQueue(values, (queue) => queue.prune({ olderThanMs, statuses })));
    output(values.json, result, () =>
      `Deleted ${result.deleted.toLocaleString("en-US")} finished job${result.deleted === 1 ? "" : "s"} (succeeded ${result.succeeded}, dead ${result.dead}, canceled ${result.canceled}).`,
    );
    return 0;
  },
};
