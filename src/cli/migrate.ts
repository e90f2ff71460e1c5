import { migrate } from "../index.js";
import { databaseUrl } from "./context.js";
import { namingFlags, parseCommandArgs, type Command } from "./command.js";

const help = `Usage: djps migrate [--database-url URL] [--schema NAME]

Creates the djps schema, or upgrades it to the version this package ships.
Prints each migration it applies, or that the schema is up to date. Safe to
run from several processes at once; a no-op when there is nothing to do.

Options:
  --database-url URL  The PostgreSQL to migrate (default: $DATABASE_URL)
  --schema NAME       The schema to create or upgrade: a lower-case
                      identifier (default: djps)
  -h, --help          Show this help

Examples:
  DATABASE_URL=postgres://app@localhost/app djps migrate
  djps migrate --database-url postgres://app@localhost/app --schema jobs`;

/** The flag a user typed, for each option of `migrate()` a message may name. */
const flagFor: Record<string, string> = {
  "options.schema": "--schema",
  "options.connectionString": "--database-url",
};

export const migrateCommand: Command = {
  name: "migrate",
  summary: "Create or upgrade the djps schema in your database",
  help,
  async run(argv) {
    const { values } = parseCommandArgs("migrate", {
      args: argv,
      options: {
        "database-url": { type: "string" },
        schema: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    const connectionString = databaseUrl(values, " to migrate");
    await namingFlags(flagFor, () => migrate({ connectionString, schema: values.schema, log: (line) => console.log(line) }));
    return 0;
  },
};
