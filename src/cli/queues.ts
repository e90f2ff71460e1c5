import { commandGroup, namingFlags, parseCommandArgs, UsageError, type Command } from "./command.js";
import { COMMON_FLAGS, COMMON_HELP, COMMON_OPTIONS, output, withQueue } from "./context.js";
import { limitCommands } from "./limits.js";
import { table } from "./table.js";

const flagFor: Record<string, string> = { ...COMMON_FLAGS, name: "QUEUE" };

const list: Command = {
  name: "list",
  summary: "List the paused queues",
  help: `Usage: djps queues list [options]

Lists the paused queues and since when. Queues that run are not listed
('djps status' shows every queue with jobs).

Options:
${COMMON_HELP}`,
  async run(argv) {
    const { values } = parseCommandArgs("queues list", { args: argv, options: COMMON_OPTIONS });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    const paused = await namingFlags(flagFor, () => withQueue(values, (queue) => queue.pausedQueues()));
    output(values.json, paused, () =>
      paused.length === 0 ? "No paused queues." : table(["queue", "paused since"], paused.map((q) => [q.queue, q.pausedAt?.toISOString() ?? null])),
    );
    return 0;
  },
};

function toggle(name: "pause" | "resume", summary: string, details: string): Command {
  const command = `queues ${name}`;
  return {
    name,
    summary,
    help: `Usage: djps queues ${name} QUEUE [options]

${details}

Options:
${COMMON_HELP}`,
    async run(argv) {
      const { values, positionals } = parseCommandArgs(command, { args: argv, options: COMMON_OPTIONS, allowPositionals: true });
      if (values.help) {
        console.log(this.help);
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError(`${command}: expects one queue name, got ${positionals.length}`, command);
      const queueName = positionals[0]!;
      const state = await namingFlags(flagFor, () => withQueue(values, (queue) => (name === "pause" ? queue.pause(queueName) : queue.resume(queueName))));
      output(values.json, state, () => (state.paused ? `Queue ${state.queue} is paused (since ${state.pausedAt?.toISOString()}).` : `Queue ${state.queue} runs.`));
      return 0;
    },
  };
}

export const queuesCommand: Command = commandGroup(
  "queues",
  "Pause, resume and limit queues",
  "Pausing and limits are cluster-wide and persisted: a paused queue accepts jobs, but no worker claims from it until it is resumed (running jobs finish); a limited queue runs at most so many jobs at once, or starts at most so many per interval.",
  [
    list,
    toggle("pause", "Stop workers claiming from a queue", "Pauses a queue for every worker. Jobs keep being accepted; running jobs finish."),
    toggle("resume", "Let workers claim from a queue again", "Resumes a paused queue and wakes idle workers at once. Resuming a running queue does nothing."),
    ...limitCommands,
  ],
);
