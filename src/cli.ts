#!/usr/bin/env node
/**
 * The `djps` command line: dispatch to one command per file under cli/, on
 * the public API only. Exit codes: 0 done, 1 failed (one line on stderr),
 * 2 the command line was wrong.
 */
import { readFileSync } from "node:fs";
import { DjpsError } from "./index.js";
import { UsageError, type Command } from "./cli/command.js";
import { grantCommand } from "./cli/grant.js";
import { dlqCommand } from "./cli/dlq.js";
import { jobsCommand } from "./cli/jobs.js";
import { keysCommand } from "./cli/keys.js";
import { migrateCommand } from "./cli/migrate.js";
import { pruneCommand } from "./cli/prune.js";
import { queuesCommand } from "./cli/queues.js";
import { schedulesCommand } from "./cli/schedules.js";
import { dashboardCommand, serveCommand } from "./cli/serve.js";
import { statusCommand } from "./cli/status.js";
import { printable } from "./cli/printable.js";

const commands: readonly Command[] = [migrateCommand, grantCommand, statusCommand, jobsCommand, dlqCommand, queuesCommand, schedulesCommand, pruneCommand, keysCommand, serveCommand, dashboardCommand];

const help = `Usage: djps <command> [options]

djps keeps a durable job queue in your own PostgreSQL.

Commands:
${commands.map((c) => `  ${c.name.padEnd(12)}${c.summary}`).join("\n")}

Options:
  -h, --help     Show this help; \`djps <command> --help\` for a command's options
  -v, --version  Print the djps version

Environment:
  DATABASE_URL   The database to use when --database-url is not given
  DJPS_DEBUG=1   Print stack traces along with error messages`;

/** The version in the package.json beside dist/ (or beside src/ when run from the repo). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function find(name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`Unknown command '${name}'`);
  return command;
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
      throw new UsageError("Missing a command");
    case "-h":
    case "--help":
      console.log(help);
      return 0;
    case "help":
      console.log(rest[0] === undefined ? help : find(rest[0]).help);
      return 0;
    case "-v":
    case "--version":
      console.log(version());
      return 0;
  }
  if (first.startsWith("-")) throw new UsageError(`Unknown option '${first}'`);
  return find(first).run(rest);
}

/** One line, whatever the message holds. */
const oneLine = (text: string): string => printable(text.replace(/\s*\n\s*/g, " ").trim());

function report(error: unknown): number {
  const debug = Boolean(process.env.DJPS_DEBUG) && process.env.DJPS_DEBUG !== "0";
  if (error instanceof UsageError) {
    const helpCommand = error.command ? `djps ${error.command} --help` : "djps --help";
    process.stderr.write(`djps: ${oneLine(error.message)}\nRun '${helpCommand}' for usage.\n`);
    return 2;
  }
  if (error instanceof DjpsError) {
    process.stderr.write(`djps: ${oneLine(error.message)}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`djps: unexpected error: ${oneLine(message)}${debug ? "" : " (set DJPS_DEBUG=1 for details)"}\n`);
  }
  if (debug) process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.exitCode = report(error);
}
