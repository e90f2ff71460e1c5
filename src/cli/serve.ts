import { serve } from "../http/index.js";
import { namingFlags, parseCommandArgs, UsageError, type Command } from "./command.js";
import { COMMON_FLAGS, databaseUrl } from "./context.js";
import { parseDuration } from "./duration.js";
import { parseCount } from "./jobs.js";

export const serveCommand: Command = {
  name: "serve",
  summary: "Run the HTTP API",
  help: `Usage: djps serve [--port N] [--host ADDRESS] [options]

Runs the HTTP API (the same handler as 'djps/http') against the database.
Requests need an API key ('djps keys create') unless --no-auth is given.
SIGTERM or SIGINT shut it down gracefully: no new connections, requests in
flight finish.

Options:
  --port N            The port (default: 8080)
  --host ADDRESS      The address to listen on (default: 127.0.0.1)
  --base-path PATH    Serve under this path, e.g. /djps (default: none)
  --no-auth           Serve without API keys: every request may do anything.
                      Only on a loopback address, unless --force
  --force             Allow --no-auth on an address other machines can reach
  --body-timeout T    Cut off a request body not sent within T (default: 10s)
  --database-url URL  The database (default: $DATABASE_URL)
  --schema NAME       The djps schema (default: djps)
  -h, --help          Show this help

Example:
  djps serve --port 8080 --host 0.0.0.0`,
  async run(argv) {
    const command = "serve";
    const { values } = parseCommandArgs(command, {
      args: argv,
      options: {
        "database-url": { type: "string" },
        schema: { type: "string" },
        help: { type: "boolean", short: "h" },
        port: { type: "string" },
        host: { type: "string" },
        "base-path": { type: "string" },
        "no-auth": { type: "boolean" },
        force: { type: "boolean" },
        "body-timeout": { type: "string" },
      },
    });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    const port = parseCount(values.port, "--port", command);
    if (port !== undefined && port > 65535) throw new UsageError(`${command}: --port expects a port from 0 to 65535, got '${values.port}'`, command);
    const connectionString = databaseUrl(values, " to serve");
    const serving = await namingFlags({ ...COMMON_FLAGS, "options.host": "--host", "options.basePath": "--base-path" }, () =>
      serve({
        connectionString,
        schema: values.schema,
        port: port ?? 8080,
        host: values.host ?? "127.0.0.1",
        auth: !values["no-auth"],
        force: values.force ?? false,
        basePath: values["base-path"],
        bodyTimeoutMs: values["body-timeout"] === undefined ? undefined : parseDuration(values["body-timeout"], "--body-timeout", command),
        onError: (error) => process.stderr.write(`djps serve: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`),
      }),
    );
    console.log(`djps serve: listening on ${serving.url}${values["no-auth"] ? " (no API keys: every request may do anything)" : ""}`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.off("SIGTERM", onTerm);
        process.off("SIGINT", onInt);
        console.log(`djps serve: ${signal}, finishing the requests in flight`);
        void serving.close().then(resolve);
      };
      const onTerm = () => stop("SIGTERM");
      const onInt = () => stop("SIGINT");
      process.once("SIGTERM", onTerm);
      process.once("SIGINT", onInt);
    });
    console.log("djps serve: stopped");
    return 0;
  },
};
