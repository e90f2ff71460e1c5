import { createRequire } from "node:module";
import pg from "pg";
import PgBoss from "pg-boss";
import type { Adapter, Payload, System } from "../system.js";

const QUEUE = "noop";
const version: string = createRequire(import.meta.url)("pg-boss/package.json").version;

/**
 * pg-boss. Version 10 has no concurrency option: each `work()` call adds one
 * polling worker that fetches `batchSize` jobs, runs the handler on the
 * batch, and waits out the rest of `pollingIntervalSeconds` before fetching
 * again. Concurrency c therefore means c `work()` calls.
 */
export const pgBoss: System = {
  name: "pg-boss",
  version,
  configs: {
    defaults: "new PgBoss(url); concurrency c = c work() calls with default options: batchSize 1, pollingIntervalSeconds 2, pool max 10",
    fastest: "c work() calls with pollingIntervalSeconds 0.5 (the documented minimum) and batchSize 1000; pool max = c + 2",
  },
  open(url, config) {
    const fast = config === "fastest";
    const sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => {});
    const started: PgBoss[] = [];
    const boss = async (concurrency?: number): Promise<PgBoss> => {
      const instance = new PgBoss(fast && concurrency ? { connectionString: url, max: concurrency + 2 } : { connectionString: url });
      instance.on("error", (error) => console.error(`pg-boss: ${error.message}`));
      await instance.start();
      started.push(instance);
      return instance;
    };
    let producer: Promise<PgBoss> | undefined;
    const send = () => (producer ??= boss());
    const adapter: Adapter = {
      async install() {
        await (await send()).createQueue(QUEUE);
      },
      async enqueue(payload) {
        await (await send()).send(QUEUE, payload);
      },
      async enqueueBatch(payloads, runAt) {
        await (await send()).insert(payloads.map((data) => ({ name: QUEUE, data, startAfter: runAt })));
      },
      async addFinished(count) {
        await sql.query(
          `INSERT INTO pgboss.job (name, data, state, started_on, completed_on)
           SELECT $1, jsonb_build_object('i', g), 'completed', now(), now() FROM generate_series(1, $2) g`,
          [QUEUE, count],
        );
      },
      async work(concurrency, onJob) {
        const worker = await boss(concurrency);
        const options = fast ? { batchSize: 1000, pollingIntervalSeconds: 0.5 } : {};
        for (let k = 0; k < concurrency; k++) {
          await worker.work<Payload>(QUEUE, options, async (jobs) => {
            for (const job of jobs) onJob(job.data);
          });
        }
        return {
          stop: async () => {
            await worker.stop({ graceful: true, wait: true });
            started.splice(started.indexOf(worker), 1);
          },
        };
      },
      async unfinished() {
        const { rows } = await sql.query(
          "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active') AND start_after <= now()",
          [QUEUE],
        );
        return rows[0].n;
      },
      async close() {
        await Promise.all(started.map((b) => b.stop({ graceful: false, wait: true }).catch(() => {})));
        await sql.end();
      },
    };
    return adapter;
  },
};
