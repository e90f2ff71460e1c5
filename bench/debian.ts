import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, type TestServer } from "../test/support/postgres.js";

const run = promisify(execFile);

/** Where Debian's `postgresql-15` package puts its binaries. */
export const DEBIAN_15 = "/usr/lib/postgresql/15/bin";

/** Whether Debian's PostgreSQL 15 is installed here. */
export const hasDebian15 = (): boolean => existsSync(join(DEBIAN_15, "postgres"));

/**
 * Starts Debian's PostgreSQL 15 in a temporary data directory on a free port,
 * as the `postgres` user when this process is root (the server refuses to run
 * as root). Trust authentication on 127.0.0.1 only: a throwaway server.
 */
export async function startDebian15(settings: Record<string, string | number>): Promise<TestServer> {
  const root = await mkdtemp(join(tmpdir(), "djps-pg15-"));
  await chmod(root, 0o777);
  const dataDir = join(root, "data");
  const port = await freePort();
  const asPostgres = async (command: string, args: string[]) => {
    const argv = [join(DEBIAN_15, command), ...args];
    if (process.getuid?.() === 0) await run("su", ["postgres", "-s", "/bin/sh", "-c", argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ")]);
    else await run(argv[0]!, argv.slice(1));
  };
  await asPostgres("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync"]);
  const flags = Object.entries({ ...settings, port, listen_addresses: "127.0.0.1", unix_socket_directories: root })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");
  await asPostgres("pg_ctl", ["-D", dataDir, "-o", flags, "-l", join(root, "log"), "-w", "start"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    source: "embedded",
    dataDir,
    stop: async () => {
      await asPostgres("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "stop"]).catch(() => {});
      await rm(root, { recursive: true, force: true }).catch(() => {});
    },
  };
}
