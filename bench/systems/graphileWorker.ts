import { readFileSync } from "node:fs";
import pg from "pg";
import { Logger, makeWorkerUtils, run, type WorkerUtils } from "graphile-worker";
import type { Adapter, Payload, System } from "../system.js";

const TASK = "noop";
const silent = new Logger(() => () => {});
// Its package exports only its entry point, so its package.json is read beside that.
const version: string = JSON.parse(readFileSync(new URL("../package.json", import.meta.resolve("graphile-worker")), "utf8")).version;

/**
 * graphile-worker. "fastest" is the configuration of its performance page
 * (https://worker.graphile.org/docs/performance, "Quick stats"): a local
 * queue of 500, completion and failure batching with delay 0, a pool one
 * larger than the concurrency. Prepared statements stay on (the default);
 * new jobs reach an idle worker through LISTEN/NOTIFY, so `pollInterval`
 * only paces retries and future jobs and is left alone.
 */
export const graphileWorker: System = {
  name: "graphile-worker",
  version,
  configs: {
    defaults: "run({ concurrency }): pollInterval 2000, maxPoolSize 10, preparedStatements on, localQueue off, completeJobBatchDelay/failJobBatchDelay -1 (off)",
    fastest: "concurrentJobs = concurrency, maxPoolSize = concurrency + 1, localQueue { size: 500 }, completeJobBatchDelay 0, failJobBatchDelay 0",
  },
  open(url, config) {
    const sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => {});
    let utils: Promise<WorkerUtils> | undefined;
    const producer = () => (utils ??= makeWorkerUtils({ connectionString: url, logger: silent }));
    const adapter: Adapter = {
      async install() {
        await (await producer()).migrate();
      },
      async enqueue(payload) {
        await (await producer()).addJob(TASK, payload);
      },
      async enqueueBatch(payloads, runAt) {
        await (await producer()).addJobs(payloads.map((payload) => ({ identifier: TASK, payload, runAt })));
      },
      async addFinished() {
        // graphile-worker deletes a job when it succeeds: no history stays in its table.
      },
      async work(concurrency, onJob) {
        const taskList = { [TASK]: async (payload: unknown) => void onJob(payload as Payload) };
        const runner =
          config === "fastest"
            ? await run({
                connectionString: url,
                taskList,
                logger: silent,
                noHandleSignals: true,
                preset: {
                  worker: {
                    concurrentJobs: concurrency,
                    maxPoolSize: concurrency + 1,
                    localQueue: { size: 500 },
                    completeJobBatchDelay: 0,
                    failJobBatchDelay: 0,
                  },
                },
              })
            : await run({ connectionString: url, taskList, logger: silent, noHandleSignals: true, concurrency });
        return { stop: () => runner.stop() };
      },
      async unfinished() {
        const { rows } = await sql.query("SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE run_at <= now()");
        return rows[0].n;
      },
      async close() {
        if (utils) await (await utils).release();
        await sql.end();
      },
    };
    return adapter;
  },
};
