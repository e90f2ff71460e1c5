import { serve } from "../http/index.js";
import { namingFlags, parseCommandArgs, UsageError, type Command } from "./command.js";
import { COMMON_FLAGS, databaseUrl } from "./context.js";
import { parseDuration } from "./duration.js";
import { parseCount } from "./jobs.js";

const FLAGS = `Options:
  --port N            The port (default: 8080)
  --host ADDRESS      The address to listen on (default: 127.0.0.1)
  --base-path PATH    Serve under this path, e.g. /djps (default: none)
  --no-auth           Serve without API keys: every request may do anything.
                      Only on a loopback address, unless --force
  --force             Allow --no-auth on an address other machines can reach
  --body-timeout T    Cut off a request body not sent within T (default: 10s)
  --database-url URL  The database (default: $DATABASE_URL)
  --schema NAME       The djps schema (default: djps)
  -h, --help          Show this help`;

/**
 * `djps serve` and `djps dashboard`: the same server (the API, with the
 * dashboard at its base path), announced for the API or for the browser.
 */
function serverCommand(name: "serve" | "dashboard", summary: string, help: string): Command {
  return {
    name,
    summary,
    help,
    async run(argv) {
      const command = name;
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
          ...(name === "serve" ? { "no-dashboard": { type: "boolean" as const } } : {}),
        },
      });
      if (values.help) {
        console.log(help);
        return 0;
      }
      const port = parseCount(values.port, "--port", command);
      if (port !== undefined && port > 65535) throw new UsageError(`${command}: --port expects a port from 0 to 65535, got '${values.port}'`, command);
      const connectionString = databaseUrl(values, ` to ${name === "serve" ? "serve" : "show the dashboard"}`);
      const serving = await namingFlags({ ...COMMON_FLAGS, "options.host": "--host", "options.basePath": "--base-path" }, () =>
        serve({
          connectionString,
          schema: values.schema,
          port: port ?? 8080,
          host: values.host ?? "127.0.0.1",
          auth: !values["no-auth"],
          force: values.force ?? false,
          basePath: values["base-path"],
          dashboard: !values["no-dashboard"],
          bodyTimeoutMs: values["body-timeout"] === undefined ? undefined : parseDuration(values["body-timeout"], "--body-timeout", command),
          onError: (error) => process.stderr.write(`djps ${name}: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`),
        }),
      );
      const open = values["no-auth"] ? " (no API keys: every request may do anything)" : "";
      if (name === "serve") console.log(`djps serve: listening on ${serving.url}${open}`);
      else {
        console.log(`djps dashboard: open ${serving.url}/ in a browser${open}`);
        if (!values["no-auth"]) console.log("Sign in with an API key: `djps keys create --name dashboard` (add --read-only for a view without actions).");
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.off("SIGTERM", onTerm);
          process.off("SIGINT", onInt);
          console.log(`djps ${name}: ${signal}, finishing the requests in flight`);
          void serving.close().then(resolve);
        };
        const onTerm = () => stop("SIGTERM");
        const onInt = () => stop("SIGINT");
        process.once("SIGTERM", onTerm);
        process.once("SIGINT", onInt);
      });
      console.log(`djps ${name}: stopped`);
      return 0;
    },
  };
}

export const serveCommand: Command = serverCommand(
  "serve",
  "Run the HTTP API (and the dashboard)",
  `Usage: djps serve [--port N] [--host ADDRESS] [options]

Runs the HTTP API (the same handler as 'djps/http') against the database,
with the dashboard at its base path (unless --no-dashboard).
Requests need an API key ('djps keys create') unless --no-auth is given.
SIGTERM or SIGINT shut it down gracefully: no new connections, requests in
flight finish.

${FLAGS.replace("  -h, --help", "  --no-dashboard      Serve the API only, without the dashboard\n  -h, --help")}

Example:
  djps serve --port 8080 --host 0.0.0.0`,
);

export const dashboardCommand: Command = serverCommand(
  "dashboard",
  "Serve the dashboard (and the HTTP API) for a browser",
  `Usage: djps dashboard [--port N] [--host ADDRESS] [options]

Serves the live dashboard: every queue with its counts, lag and throughput,
the workers, jobs to find and act on, dead letters and schedules. It is the
server of 'djps serve'; open the URL it prints and sign in with an API key
('djps keys create --name dashboard', with --read-only for a view without
actions). SIGTERM or SIGINT shut it down gracefully.

${FLAGS}

Example:
  djps dashboard --port 8080`,
);
