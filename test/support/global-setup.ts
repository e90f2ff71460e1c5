import pg from "pg";
import type { TestProject } from "vitest/node";
import { buildDashboardIfStale } from "./dashboard-build.js";
import { startPostgres, type TestServer } from "./postgres.js";

let server: TestServer | undefined;

/** Starts (or finds) one PostgreSQL for the whole run and hands its URL to every test file. */
export async function setup(project: TestProject): Promise<void> {
  await buildDashboardIfStale();
  server = await startPostgres({ settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } });
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const { rows } = await client.query("SHOW server_version");
  await client.end();
  console.log(`Testing against PostgreSQL ${rows[0].server_version} (${server.source})`);
  project.provide("databaseUrl", server.url);
  project.provide("databaseSource", server.source);
  project.provide("dataDir", server.dataDir ?? "");
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
