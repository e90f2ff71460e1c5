import { parseArgs, type ParseArgsConfig } from "node:util";
import { ValidationError } from "../index.js";

/** One `djps <name>` subcommand, in a file of its own under src/cli/. */
export interface Command {
  /** What the user types after `djps`. */
  readonly name: string;
  /** One line for the command list in `djps --help`. */
  readonly summary: string;
  /** The full text of `djps <name> --help`. */
  readonly help: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** The command line itself was wrong: unknown command, flag or value. Exits 2 with a hint to use --help. */
export class UsageError extends Error {
  /** The command whose help the hint should point to, if any. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/**
 * `parseArgs` (strict by default), with its errors turned into a `UsageError` for
 * `command`. Positional arguments are refused unless the config allows them.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (typeof e.code === "string" && e.code.startsWith("ERR_PARSE_ARGS_")) {
      throw new UsageError(`${command}: ${String(e.message).split(". ")[0]}`, command);
    }
    throw error;
  }
}

/**
 * Runs `fn`; a ValidationError about an option the user gave as a flag is
 * re-thrown naming the flag (`--schema`) instead of the API field (`options.schema`).
 */
export async function namingFlags<T>(flagFor: Readonly<Record<string, string>>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const flag = error instanceof ValidationError ? flagFor[error.field] : undefined;
    if (flag && error instanceof ValidationError) {
      throw new ValidationError(error.field, error.message.replaceAll(`\`${error.field}\``, `\`${flag}\``));
    }
    throw error;
  }
}

/**
 * A command made of subcommands (`djps jobs list`, `djps jobs show ID`): its
 * help lists them, and `djps <group> <sub> --help` shows the sub's own.
 */
export function commandGroup(name: string, summary: string, intro: string, subs: readonly Command[]): Command {
  const help = `Usage: djps ${name} <${subs.map((s) => s.name).join("|")}> [options]

${intro}

Commands:
${subs.map((s) => `  ${s.name.padEnd(10)}${s.summary}`).join("\n")}

Run 'djps ${name} <command> --help' for a command's options.`;
  return {
    name,
    summary,
    help,
    async run(argv) {
      const [first, ...rest] = argv;
      if (first === undefined) throw new UsageError(`${name}: missing a command (${subs.map((s) => s.name).join(", ")})`, name);
      if (first === "-h" || first === "--help") {
        console.log(help);
        return 0;
      }
      const sub = subs.find((s) => s.name === first);
      if (!sub) throw new UsageError(`${name}: unknown command '${first}'`, name);
      return sub.run(rest);
    },
  };
}
