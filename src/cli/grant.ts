import { grant } from "../index.js";
import { databaseUrl } from "./context.js";
import { namingFlags, parseCommandArgs, UsageError, type Command } from "./command.js";

const help = `Usage: djps grant --role ROLE [--database-url URL] [--schema NAME] [--dry-run]

Gives a runtime role what Queue and Worker need in the djps schema, and no
more: usage of the schema; SELECT, INSERT, UPDATE and DELETE on its jobs,
queues, schedules, api_keys and workers tables (retention deletes finished
jobs); SELECT only
on the migrations bookkeeping (to check the schema version); and EXECUTE on
its functions. Such a role cannot drop, alter or truncate the tables, nor
change the bookkeeping. Run it as the schema's owner (the role that ran
migrate), after migrate; the role must exist.

Options:
  --role ROLE         The role your application connects as (required)
  --database-url URL  The database, as the schema's owner (default: $DATABASE_URL)
  --schema NAME       The djps schema (default: djps)
  --dry-run           Print the statements instead of running them
  -h, --help          Show this help

Example:
  djps grant --role app_runtime --database-url postgres://owner@localhost/app`;

const flagFor: Record<string, string> = { "options.schema": "--schema", "options.role": "--role" };

export const grantCommand: Command = {
  name: "grant",
  summary: "Give a runtime role the least access Queue and Worker need",
  help,
  async run(argv) {
    const { values } = parseCommandArgs("grant", {
      args: argv,
      options: {
        role: { type: "string" },
        "database-url": { type: "string" },
        schema: { type: "string" },
        "dry-run": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (values.role === undefined) throw new UsageError("grant: --role is required", "grant");
    const dryRun = values["dry-run"] ?? false;
    const connectionString = dryRun ? undefined : databaseUrl(values);
    const role = values.role;
    const statements = await namingFlags(flagFor, () => grant({ connectionString, schema: values.schema, role, dryRun }));
    for (const statement of statements) console.log(`${statement};`);
    return 0;
  },
};
