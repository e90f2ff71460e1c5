/**
 * Where a no-op job's time goes, per statement, for one system:
 *
 *   npm run bench:profile -- --system=djps [--config=defaults] [--jobs=50000] [--concurrency=10] [--server=18]
 *
 * Starts a server with pg_stat_statements (and the durable settings of the
 * benchmark), preloads the jobs, drains them with one worker in this process,
 * and prints every statement that ran during the drain: calls, rows, total
 * and mean execution time, and the share of the drain's wall time. Run it
 * with `node --cpu-prof` to see the worker's side.
 *
 * With `--scenario=enqueue-bulk` it profiles the bulk enqueue instead: the
 * jobs go through the bulk API in batches of `--batch` (1,000), one call
 * after another, as the enqueue-bulk scenario does, and the statements are
 * those of the producer.
 */
import pg from "pg";
import { toolArgs } from "./toolArgs.js";
import { startServer } from "./server.js";
import { enqueueInBatches } from "./scenarios/enqueueBulk.js";
import { preload, timeDrain } from "./scenarios/process.js";

const { args, system, config, jobs, concurrency, major } = await toolArgs(process.argv.slice(2), 50_000);
const bulk = args.get("scenario") === "enqueue-bulk";
const batch = Number(args.get("batch") ?? 1000);

const server = await startServer(major, { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all" });
try {
  const url = await server.createDatabase("profile");
  const adapter = system.open(url, config);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    await adapter.install();
    let wallMs: number;
    let rate: number;
    if (bulk) {
      await adapter.enqueueBatch([{ i: -1 }]); // warm up
      await admin.query("SELECT pg_stat_statements_reset()");
      const start = performance.now();
      await enqueueInBatches(adapter, jobs, batch);
      wallMs = performance.now() - start;
      rate = jobs / (wallMs / 1000);
    } else {
      await preload(adapter, jobs, 1000);
      await admin.query("SELECT pg_stat_statements_reset()");
      let seen = 0;
      const result = await timeDrain(adapter, jobs, 600_000, async () => [await adapter.work(concurrency, () => void seen++)], () => seen);
      wallMs = ((result.detail?.seconds as number) ?? 0) * 1000;
      rate = result.value;
    }
    const { rows } = await admin.query(
      `SELECT calls, rows, total_exec_time, mean_exec_time, regexp_replace(left(query, 110), '\\s+', ' ', 'g') AS query
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY total_exec_time DESC LIMIT 25`,
    );
    const what = bulk ? `${jobs} jobs enqueued in batches of ${batch}` : `${jobs} no-op jobs at concurrency ${concurrency}`;
    console.log(`${system.name} ${system.version} (${config}), PostgreSQL ${major}: ${what}: ${Math.round(rate)} jobs/s, ${wallMs.toFixed(0)} ms`);
    console.log("| calls | rows | total ms | mean ms | µs per job | share of wall time | statement |");
    console.log("| ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for (const r of rows) {
      const total = Number(r.total_exec_time);
      console.log(
        `| ${r.calls} | ${r.rows} | ${total.toFixed(0)} | ${Number(r.mean_exec_time).toFixed(3)} | ${((total * 1000) / jobs).toFixed(1)} | ${((total / wallMs) * 100).toFixed(0)}% | \`${r.query}\` |`,
      );
    }
  } finally {
    await admin.end();
    await adapter.close();
  }
} finally {
  await server.stop();
}
