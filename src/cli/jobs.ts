import { JOB_STATUSES, JobFailedError, JobNotFoundError, type Job, type JobStatus } from "../index.js";
import { commandGroup, namingFlags, parseCommandArgs, UsageError, type Command } from "./command.js";
import { COMMON_FLAGS, COMMON_HELP, COMMON_OPTIONS, output, withQueue } from "./context.js";
import { parseDuration } from "./duration.js";
import { jobDetail, jobsTable } from "./jobTable.js";

const flagFor: Record<string, string> = {
  ...COMMON_FLAGS,
  "options.queue": "--queue",
  "options.type": "--type",
  "options.group": "--group",
  "options.limit": "--limit",
  "options.cursor": "--cursor",
  id: "ID",
};

/** The positional job id of show, retry and cancel. */
function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`${command}: expects one job id, got ${positionals.length}`, command);
  return positionals[0]!;
}

/** A whole-number flag. */
export function parseCount(text: string | undefined, flag: string, command: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${command}: ${flag} expects a whole number, got '${text}'`, command);
  return Number(text);
}

const list: Command = {
  name: "list",
  summary: "List jobs, newest first",
  help: `Usage: djps jobs list [--status S] [--queue Q] [--type T] [--group G] [--limit N] [--cursor ID] [options]

Lists jobs newest first, a page at a time. With more jobs than --limit, the
last line (or "nextCursor" in JSON) gives the --cursor of the next page.

Options:
  --status S          Only this state (${JOB_STATUSES.join(", ")}); repeat for several
  --queue Q           Only this named queue
  --type T            Only this job type
  --group G           Only jobs of this group
  --limit N           Jobs per page, 1 to 1000 (default: 50)
  --cursor ID         Continue after this job id (from the previous page)
${COMMON_HELP}

Example:
  djps jobs list --status failed --status dead --type send_email`,
  async run(argv) {
    const command = "jobs list";
    const { values } = parseCommandArgs(command, {
      args: argv,
      options: {
        ...COMMON_OPTIONS,
        status: { type: "string", multiple: true },
        queue: { type: "string" },
        type: { type: "string" },
        group: { type: "string" },
        limit: { type: "string" },
        cursor: { type: "string" },
      },
    });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    for (const s of values.status ?? []) {
      if (!(JOB_STATUSES as readonly string[]).includes(s)) {
        throw new UsageError(`${command}: --status expects one of ${JOB_STATUSES.join(", ")}, got '${s}'`, command);
      }
    }
    const page = await namingFlags(flagFor, () =>
      withQueue(values, (queue) =>
        queue.listJobs({
          status: values.status as JobStatus[] | undefined,
          queue: values.queue,
          type: values.type,
          group: values.group,
          limit: parseCount(values.limit, "--limit", command) ?? 50,
          cursor: values.cursor,
        }),
      ),
    );
    output(values.json, page, () => jobsTable(page.jobs) + (page.nextCursor ? `\nMore: --cursor ${page.nextCursor}` : ""));
    return 0;
  },
};

/** show, retry and cancel: one job by id. */
function byId(name: string, summary: string, details: string, act: "get" | "retry" | "cancel"): Command {
  const command = `jobs ${name}`;
  return {
    name,
    summary,
    help: `Usage: djps jobs ${name} ID [options]

${details}

Options:
${COMMON_HELP}`,
    async run(argv) {
      const { values, positionals } = parseCommandArgs(command, { args: argv, options: COMMON_OPTIONS, allowPositionals: true });
      if (values.help) {
        console.log(this.help);
        return 0;
      }
      const id = oneId(positionals, command);
      const job = await namingFlags(flagFor, () =>
        withQueue(values, async (queue) => {
          if (act === "retry") return queue.retry(id);
          if (act === "cancel") return queue.cancel(id);
          const found = await queue.getJob(id);
          if (!found) throw new JobNotFoundError(id);
          return found;
        }),
      );
      output(values.json, job, () => jobDetail(job));
      return 0;
    },
  };
}

/** `jobs wait ID [--timeout D]`: waits for the job to finish; exits 0 when it succeeded, 1 when it is dead or canceled. */
const wait: Command = {
  name: "wait",
  summary: "Wait until a job finishes",
  help: `Usage: djps jobs wait ID [--timeout DURATION] [options]

Waits until the job finishes, then shows it. Exits 0 when it succeeded, 1
when it ended dead or canceled (or does not exist), 3 when --timeout (e.g.
30s, 5m) passed first.

Options:
  --timeout DURATION   give up after this long (default: wait as long as it takes)
${COMMON_HELP}`,
  async run(argv) {
    const command = "jobs wait";
    const { values, positionals } = parseCommandArgs(command, {
      args: argv,
      options: { ...COMMON_OPTIONS, timeout: { type: "string" } },
      allowPositionals: true,
    });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    const id = oneId(positionals, command);
    const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout, "--timeout", command);
    const outcome = await namingFlags({ ...flagFor, "options.timeoutMs": "--timeout" }, () =>
      withQueue(values, async (queue): Promise<{ job: Job; code: number } | { timedOut: string }> => {
        try {
          return { job: await queue.waitFor(id, { timeoutMs }), code: 0 };
        } catch (error) {
          if (error instanceof JobFailedError) return { job: error.job, code: 1 };
          if (error instanceof Error && error.name === "WaitTimeoutError") return { timedOut: error.message };
          throw error;
        }
      }),
    );
    if ("timedOut" in outcome) {
      console.error(`djps: ${outcome.timedOut}`);
      return 3;
    }
    output(values.json, outcome.job, () => jobDetail(outcome.job));
    return outcome.code;
  },
};

export const jobsCommand: Command = commandGroup(
  "jobs",
  "List, show, retry and cancel jobs",
  "Looks at and acts on single jobs. Exits 1 when the job does not exist or its state does not allow the action.",
  [
    list,
    byId("show", "Show one job: fields, payload, result, error history", "Shows one job in full, with its error history.", "get"),
    byId("retry", "Put a failed, dead or canceled job back to queued", "Puts a failed, dead or canceled job back to queued, runnable now, with one more attempt if its attempts are used up.", "retry"),
    wait,
    byId("cancel", "Cancel a job", "Cancels a queued or failed job at once; a running one is asked to stop (its worker aborts the handler and writes canceled).", "cancel"),
  ],
);
