import pg from "pg";
import type { TestProject } from "vitest/node";
import { buildDashboardIfStale } from "./dashboard-build.js";
import { startPostgres, type TestServer } from "./postgres.js";

let server: TestServer | undefined;

/** Starts (or finds) one PostgreSQL for the whole run and hands its URL to every test file. */
export async function setup(project: TestProject): Promise<void> {
  assertNodeVersion();
  await buildDashboardIfStale();
  server = await startPostgres({ settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } });
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const { rows } = await client.query("SHOW server_version");
  await client.end();
  console.log(`Testing against PostgreSQL ${rows[0].server_version} (${server.source}) on Node ${process.version}`);
  project.provide("databaseUrl", server.url);
  project.provide("databaseSource", server.source);
  project.provide("dataDir", server.dataDir ?? "");
}

/**
 * CI runs the suite on several Node versions and names the major version it
 * means in `DJPS_TEST_NODE`: a run that picked up another Node (a PATH gone
 * wrong) fails here instead of passing on the wrong version. The test
 * processes are forks of this one (`pool: "forks"` uses this process's
 * executable), so they run the same Node.
 */
function assertNodeVersion(): void {
  const wanted = process.env.DJPS_TEST_NODE;
  if (!wanted) return;
  const major = process.versions.node.split(".")[0];
  if (major !== wanted) throw new Error(`DJPS_TEST_NODE is ${wanted}, but the tests run on Node ${process.version}`);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    databaseSource: string;
    dataDir: string;
  }
}
