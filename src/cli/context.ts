import { ConfigError, Queue } from "../index.js";
import { printable } from "./printable.js";

/** The flags every operator command takes, for `parseArgs`. */
export const COMMON_OPTIONS = {
  "database-url": { type: "string" },
  schema: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The help lines of the common flags. */
export const COMMON_HELP = `  --json              Print JSON instead of a table
  --database-url URL  The database (default: $DATABASE_URL)
  --schema NAME       The djps schema (default: djps)
  -h, --help          Show this help`;

/** The API field a message may name, and the flag the user typed for it. */
export const COMMON_FLAGS: Record<string, string> = {
  "options.schema": "--schema",
  "options.connectionString": "--database-url",
};

/**
 * The database the flags name: `--database-url`, else `DATABASE_URL` (an
 * empty one counts as unset). `what` says what for, in the error when there
 * is none ("No database to migrate: ...").
 */
export function databaseUrl(values: { "database-url"?: string | undefined }, what = ""): string {
  const connectionString = values["database-url"] ?? (process.env.DATABASE_URL || undefined);
  if (connectionString === undefined) {
    throw new ConfigError(`No database${what}: pass --database-url URL or set the DATABASE_URL environment variable`);
  }
  return connectionString;
}

/** Opens a Queue on the flags' database and schema, runs `fn`, and closes it. */
export async function withQueue<T>(values: { "database-url"?: string | undefined; schema?: string | undefined }, fn: (queue: Queue) => Promise<T>): Promise<T> {
  const connectionString = databaseUrl(values);
  const queue = new Queue({ connectionString, schema: values.schema, poolSize: 2 });
  try {
    return await fn(queue);
  } finally {
    await queue.close();
  }
}

/**
 * Prints `data` as JSON with `--json` (JSON escapes control characters
 * itself), else the human text with unprintable characters escaped.
 */
export function output(json: boolean | undefined, data: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(data, null, 2) : printable(human()));
}
