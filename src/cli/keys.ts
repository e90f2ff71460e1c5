import { createKey, listKeys, revokeKey, type ApiKey } from "../http/index.js";
import { commandGroup, namingFlags, parseCommandArgs, UsageError, type Command } from "./command.js";
import { COMMON_FLAGS, COMMON_HELP, COMMON_OPTIONS, output, withQueue } from "./context.js";
import { table } from "./table.js";

const flagFor: Record<string, string> = {
  ...COMMON_FLAGS,
  "options.name": "--name",
  "options.rate": "--rate",
  id: "ID",
};

/** `--queues a,b` as names; each is checked by createKey. */
function queueList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text.split(",").map((q) => q.trim());
}

const rateText = (key: ApiKey) => (key.rate ? `${key.rate.limit}/${key.rate.periodMs}ms` : null);

const create: Command = {
  name: "create",
  summary: "Create an API key (shown once)",
  help: `Usage: djps keys create --name NAME [--queues Q1,Q2] [--read-only] [--rate N/PERIOD] [options]

Creates an API key for the HTTP API ('djps serve', 'djps/http') and prints it.
The key is shown this once: only its SHA-256 is stored.

Options:
  --name NAME         A label for people (required)
  --queues Q1,Q2      Only these queues (default: every queue)
  --read-only         Only GET requests
  --rate N/PERIOD     At most N requests in a burst, refilled at N per PERIOD,
                      e.g. 100/1s, 1000/m, 5/h (default: no limit)
${COMMON_HELP}

Example:
  djps keys create --name billing-service --queues billing --rate 100/1s --json`,
  async run(argv) {
    const command = "keys create";
    const { values } = parseCommandArgs(command, {
      args: argv,
      options: { ...COMMON_OPTIONS, name: { type: "string" }, queues: { type: "string" }, "read-only": { type: "boolean" }, rate: { type: "string" } },
    });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    if (values.name === undefined) throw new UsageError(`${command}: --name is required`, command);
    const queues = queueList(values.queues);
    const created = await namingFlags({ ...flagFor, ...Object.fromEntries((queues ?? []).map((_, i) => [`options.queues.${i}`, "--queues"])) }, () =>
      withQueue(values, (queue) =>
        createKey(queue, {
          name: values.name!,
          ...(queues ? { queues } : {}),
          ...(values["read-only"] ? { readOnly: true } : {}),
          ...(values.rate !== undefined ? { rate: values.rate } : {}),
        }),
      ),
    );
    output(values.json, created, () =>
      [
        `Created API key ${created.id} (${created.name}).`,
        `Key (shown once, store it now): ${created.key}`,
        `Queues: ${created.queues?.join(", ") ?? "all"}; ${created.readOnly ? "read-only" : "read-write"}; rate: ${rateText(created) ?? "no limit"}`,
      ].join("\n"),
    );
    return 0;
  },
};

const list: Command = {
  name: "list",
  summary: "List API keys (never their secrets)",
  help: `Usage: djps keys list [options]

Lists every API key, revoked ones too, oldest first. Keys are stored only as
hashes, so no key is shown.

Options:
${COMMON_HELP}`,
  async run(argv) {
    const { values } = parseCommandArgs("keys list", { args: argv, options: COMMON_OPTIONS });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    const keys = await namingFlags(flagFor, () => withQueue(values, (queue) => listKeys(queue)));
    output(values.json, keys, () =>
      keys.length === 0
        ? "No API keys."
        : table(
            ["id", "name", "queues", "access", "rate", "created", "revoked"],
            keys.map((k) => [
              k.id,
              k.name,
              k.queues?.join(",") ?? "all",
              k.readOnly ? "read-only" : "read-write",
              rateText(k),
              k.createdAt.toISOString(),
              k.revokedAt?.toISOString() ?? null,
            ]),
          ),
    );
    return 0;
  },
};

const revoke: Command = {
  name: "revoke",
  summary: "Revoke an API key",
  help: `Usage: djps keys revoke ID [options]

Revokes a key: requests with it get 401 from now on. It stays listed.

Options:
${COMMON_HELP}`,
  async run(argv) {
    const command = "keys revoke";
    const { values, positionals } = parseCommandArgs(command, { args: argv, options: COMMON_OPTIONS, allowPositionals: true });
    if (values.help) {
      console.log(this.help);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`${command}: expects one key id, got ${positionals.length}`, command);
    const key = await namingFlags(flagFor, () => withQueue(values, (queue) => revokeKey(queue, positionals[0]!)));
    output(values.json, key, () => `Revoked API key ${key.id} (${key.name}) at ${key.revokedAt?.toISOString()}.`);
    return 0;
  },
};

export const keysCommand: Command = commandGroup(
  "keys",
  "Create, list and revoke API keys for the HTTP API",
  "API keys authenticate requests to the HTTP API ('djps serve'). A key may be scoped to queues, read-only, and rate limited.",
  [create, list, revoke],
);

