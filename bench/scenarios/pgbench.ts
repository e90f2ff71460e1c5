import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import type { Result } from "../scenario.js";

const run = promisify(execFile);
const CLIENTS = 4;
const BATCH = 100;

/** The least work any queue must do, per transaction: claim 100 rows with SKIP LOCKED and mark them done. */
export const CLAIM_SCRIPT = `UPDATE refq SET status = 'done' WHERE id IN (SELECT id FROM refq WHERE status = 'queued' ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED);\n`;

export function pgbenchPath(): string {
  if (process.env.PGBENCH) return process.env.PGBENCH;
  for (const v of [18, 17, 16, 15]) {
    const path = `/usr/lib/postgresql/${v}/bin/pgbench`;
    if (existsSync(path)) return path;
  }
  return "pgbench";
}

/**
 * The physical reference: `rows` queued rows (id, status, jsonb payload,
 * a partial index on the queued ones), drained by pgbench running
 * CLAIM_SCRIPT from 4 clients, each doing its share of the transactions.
 */
export async function physicalReference(url: string, rows: number): Promise<Result> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const dir = await mkdtemp(join(tmpdir(), "djps-pgbench-"));
  try {
    await client.query(`CREATE TABLE refq (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      status text NOT NULL DEFAULT 'queued',
      payload jsonb NOT NULL DEFAULT '{}')`);
    await client.query("INSERT INTO refq (payload) SELECT jsonb_build_object('i', g) FROM generate_series(1, $1) g", [rows]);
    await client.query("CREATE INDEX refq_claim ON refq (id) WHERE status = 'queued'");
    await client.query("VACUUM ANALYZE refq");
    const script = join(dir, "claim.sql");
    await writeFile(script, CLAIM_SCRIPT);
    const perClient = Math.ceil(rows / BATCH / CLIENTS);
    const { stdout } = await run(pgbenchPath(), ["-n", "-c", String(CLIENTS), "-j", "2", "-t", String(perClient), "-f", script, url], {
      maxBuffer: 1 << 20,
    });
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
    const left = (await client.query("SELECT count(*)::int AS n FROM refq WHERE status = 'queued'")).rows[0].n as number;
    const server = (await client.query("SHOW server_version")).rows[0].server_version as string;
    const version = (await run(pgbenchPath(), ["--version"])).stdout.trim();
    // Every transaction but the last few claims a full batch of 100.
    return {
      metric: "throughput",
      value: tps * BATCH * ((rows - left) / (perClient * CLIENTS * BATCH)),
      unit: "rows/s",
      detail: { rows, left, clients: CLIENTS, batch: BATCH, tps, latencyMs, pgbench: version, server },
    };
  } finally {
    await client.end();
    await rm(dir, { recursive: true, force: true });
  }
}
