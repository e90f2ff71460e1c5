import { commandGroup, namingFlags, parseCommandArgs, type Command } from "./command.js";
import { COMMON_FLAGS, COMMON_HELP, COMMON_OPTIONS, output, withQueue } from "./context.js";
import { table } from "./table.js";

const list: Command = {
  name: "list",
  summary: "List the recurring schedules and their next tick",
  help: `Usage: djps schedules list [options]

Lists every recurring schedule (created with queue.schedule()): its cron
expression and time zone, the job type and queue it enqueues, the newest
tick enqueued and the next one.

Options:
${COMMON_HELP}`,
  async run(argv) {
    const { values } = parseCommandArgs("schedules list", { args: argv, options: COMMON_OPTIONS });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    const schedules = await namingFlags(COMMON_FLAGS, () => withQueue(values, (queue) => queue.listSchedules()));
    output(values.json, schedules, () =>
      schedules.length === 0
        ? "No schedules."
        : table(
            ["name", "cron", "time zone", "type", "queue", "last tick", "next run"],
            schedules.map((s) => [s.name, s.cron, s.timeZone, s.type, s.queue, s.lastTick?.toISOString() ?? null, s.nextRunAt?.toISOString() ?? null]),
          ),
    );
    return 0;
  },
};

export const schedulesCommand: Command = commandGroup(
  "schedules",
  "List recurring schedules",
  "Recurring jobs are created in code with queue.schedule(); workers enqueue one job per tick.",
  [list],
);
