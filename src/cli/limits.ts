import type { QueueLimits, QueueLimitsState } from "../index.js";
import { namingFlags, parseCommandArgs, UsageError, type Command } from "./command.js";
import { COMMON_FLAGS, COMMON_HELP, COMMON_OPTIONS, output, withQueue } from "./context.js";
import { formatRate, parseRate } from "./rate.js";
import { table } from "./table.js";

const flagFor: Record<string, string> = {
  ...COMMON_FLAGS,
  name: "QUEUE",
  "limits.concurrency": "--concurrency",
  "limits.rate": "--rate",
  "limits.rate.limit": "--rate",
  "limits.rate.intervalMs": "--rate",
  "limits.group": "--group-concurrency",
  "limits.group.concurrency": "--group-concurrency",
};

/** A queue's limits in a few words: `concurrency 20, rate 100/1s, group 1`, or `none`. */
export function limitsText(limits: QueueLimits | null): string {
  const parts: string[] = [];
  if (limits?.concurrency != null) parts.push(`concurrency ${limits.concurrency}`);
  if (limits?.rate) parts.push(`rate ${formatRate(limits.rate)}`);
  if (limits?.group) parts.push(`group ${limits.group.concurrency}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

/** `--concurrency N` (or another count flag) or `none`: a whole number for the API to range-check, or null to remove the limit. */
function parseConcurrency(text: string, command: string, flag = "--concurrency"): number | null {
  if (text === "none") return null;
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new UsageError(`${command}: ${flag} expects a whole number or 'none', got '${text}'`, command);
  return Number(text);
}

const limit: Command = {
  name: "limit",
  summary: "Show or set a queue's concurrency, rate and group limits",
  help: `Usage: djps queues limit QUEUE [--concurrency N|none] [--rate N/DURATION|none]
                         [--group-concurrency N|none] [--clear] [options]

Sets a queue's cluster-wide limits, or shows them when no limit flag is
given. Workers honour a change at their next claim, without a restart.
A limit not named keeps its value.

  --concurrency N     At most N jobs of the queue running at once, across every
                      worker and process; 'none' removes the limit
  --rate N/DURATION   At most N jobs started in any window of DURATION
                      (100/1s, 5/500ms, 1000/1h); 'none' removes the limit
  --group-concurrency N
                      At most N jobs of each group (the group enqueue option)
                      running or waiting for a retry at once; 1 runs each
                      group's jobs one at a time, in order; 'none' removes it
  --clear             Remove every limit of the queue

Options:
${COMMON_HELP}

Examples:
  djps queues limit emails --concurrency 20 --rate 100/1s
  djps queues limit events --group-concurrency 1
  djps queues limit emails --rate none
  djps queues limit emails --clear`,
  async run(argv) {
    const command = "queues limit";
    const { values, positionals } = parseCommandArgs(command, {
      args: argv,
      options: { ...COMMON_OPTIONS, concurrency: { type: "string" }, rate: { type: "string" }, "group-concurrency": { type: "string" }, clear: { type: "boolean" } },
      allowPositionals: true,
    });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`${command}: expects one queue name, got ${positionals.length}`, command);
    const queueName = positionals[0]!;
    const group = values["group-concurrency"];
    if (values.clear && (values.concurrency !== undefined || values.rate !== undefined || group !== undefined)) {
      throw new UsageError(`${command}: --clear removes every limit; give it alone, without --concurrency, --rate or --group-concurrency`, command);
    }
    const change: { concurrency?: number | null; rate?: { limit: number; intervalMs: number } | null; group?: { concurrency: number } | null } = {};
    if (values.concurrency !== undefined) change.concurrency = parseConcurrency(values.concurrency, command);
    if (values.rate !== undefined) change.rate = values.rate === "none" ? null : parseRate(values.rate, "--rate", command);
    if (group !== undefined) {
      const n = parseConcurrency(group, command, "--group-concurrency");
      change.group = n === null ? null : { concurrency: n };
    }
    const showOnly = !values.clear && values.concurrency === undefined && values.rate === undefined && group === undefined;
    const state = await namingFlags(flagFor, () =>
      withQueue(values, (queue) => (showOnly ? queue.getLimits(queueName) : queue.setLimits(queueName, values.clear ? null : change))),
    );
    output(values.json, state, () => `Queue ${state.queue} limits: ${limitsText(state)}.`);
    return 0;
  },
};

const limits: Command = {
  name: "limits",
  summary: "List the queues that have limits",
  help: `Usage: djps queues limits [options]

Lists every queue with a concurrency, rate or group limit.

Options:
${COMMON_HELP}`,
  async run(argv) {
    const { values } = parseCommandArgs("queues limits", { args: argv, options: COMMON_OPTIONS });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    const list: QueueLimitsState[] = await namingFlags(COMMON_FLAGS, () => withQueue(values, (queue) => queue.listLimits()));
    output(values.json, list, () =>
      list.length === 0
        ? "No limited queues."
        : table(
            ["queue", "concurrency", "rate", "group"],
            list.map((q) => [q.queue, q.concurrency, q.rate ? formatRate(q.rate) : null, q.group?.concurrency ?? null]),
          ),
    );
    return 0;
  },
};

export const limitCommands: readonly Command[] = [limit, limits];
