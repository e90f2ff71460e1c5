import { createRequire } from "node:module";
import pg from "pg";
import { PgBoss, type WorkOptions } from "pg-boss";
import type { Adapter, Payload, System } from "../system.js";

const QUEUE = "noop";
const version: string = createRequire(import.meta.url)("pg-boss/package.json").version;

/**
 * pg-boss. One `work()` call with `localConcurrency` c runs c polling workers
 * in the process, each fetching `batchSize` jobs, running the handler on the
 * batch and completing it in one statement. "fastest" follows the worker
 * options of https://pgboss.io/api/workers: batch fetches that go on back to
 * back while they come back full (`burstWhenBatchFull`), the shortest polling
 * interval, and LISTEN/NOTIFY dispatch (`useListenNotify` on the instance,
 * `notify` on the queue) so an idle worker is woken when a job is created.
 * The NOTIFY is sent in each enqueueing transaction, so it costs on the
 * enqueue side what it saves in latency. The docs give no batch size or pool
 * size: 1,000 (this benchmark's bulk batch) and c + 2 are this harness's
 * choice within what they describe.
 */
export const pgBoss: System = {
  name: "pg-boss",
  version,
  configs: {
    defaults:
      "new PgBoss(url), work(name, { localConcurrency: c }, handler): batchSize 1, pollingIntervalSeconds 2, pool max 10, no LISTEN/NOTIFY",
    fastest:
      "new PgBoss({ max: c + 2, useListenNotify: true }), createQueue(name, { notify: true }), work(name, { localConcurrency: c, batchSize: 1000, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 (the documented minimum) }, handler)",
  },
  open(url, config) {
    const fast = config === "fastest";
    const sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => {});
    const started: PgBoss[] = [];
    const boss = async (concurrency?: number): Promise<PgBoss> => {
      const instance = new PgBoss(
        fast && concurrency ? { connectionString: url, max: concurrency + 2, useListenNotify: true } : { connectionString: url },
      );
      instance.on("error", (error) => console.error(`pg-boss: ${error.message}`));
      await instance.start();
      started.push(instance);
      return instance;
    };
    let producer: Promise<PgBoss> | undefined;
    const send = () => (producer ??= boss());
    const adapter: Adapter = {
      async install() {
        await (await send()).createQueue(QUEUE, fast ? { notify: true } : {});
      },
      async enqueue(payload) {
        await (await send()).send(QUEUE, payload);
      },
      async enqueueBatch(payloads, runAt) {
        await (await send()).insert(QUEUE, payloads.map((data) => ({ data, startAfter: runAt })));
      },
      async addFinished(count) {
        // The job table is partitioned by queue name: the row lands in the queue's partition.
        await sql.query(
          `INSERT INTO pgboss.job (name, data, state, started_on, completed_on)
           SELECT $1, jsonb_build_object('i', g), 'completed', now(), now() FROM generate_series(1, $2) g`,
          [QUEUE, count],
        );
      },
      async work(concurrency, onJob) {
        const worker = await boss(concurrency);
        const options: WorkOptions = fast
          ? { localConcurrency: concurrency, batchSize: 1000, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }
          : { localConcurrency: concurrency };
        await worker.work<Payload>(QUEUE, options, async (jobs) => {
          for (const job of jobs) onJob(job.data);
        });
        return {
          stop: async () => {
            // Graceful by default: resolves once the workers' jobs have settled, then closes the pool.
            await worker.stop({ graceful: true });
            started.splice(started.indexOf(worker), 1);
          },
        };
      },
      async unfinished() {
        // Matches the partial index over live states (job_i14) on (name, state, …, start_after).
        const { rows } = await sql.query(
          "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active') AND start_after <= now()",
          [QUEUE],
        );
        return rows[0].n;
      },
      async close() {
        await Promise.all(started.map((b) => b.stop({ graceful: false }).catch(() => {})));
        await sql.end();
      },
    };
    return adapter;
  },
};
