import { createRequire } from "node:module";
import pg from "pg";
import { Queue, Worker, createPostgresBackend, runMigrations } from "bullmq";
import type { Adapter, Payload, System } from "../system.js";

const QUEUE = "noop";
const version: string = createRequire(import.meta.url)("bullmq/package.json").version;

/**
 * BullMQ with its PostgreSQL backend (`createPostgresBackend`). "fastest"
 * follows the tuning tips of https://docs.bullmq.io/guide/postgresql: a pool
 * sized for the concurrency and `removeOnComplete`. Its third tip,
 * `synchronous_commit = off`, is a server setting this benchmark keeps on.
 */
export const bullmq: System = {
  name: "bullmq-pg",
  version,
  configs: {
    defaults: "new Queue/Worker(name, …, { connection: url }, createPostgresBackend), Worker { concurrency }: pool max 10, completed jobs kept",
    fastest: "pool max = concurrency + 2 (connection { connectionString, max }), Worker { concurrency, removeOnComplete: { count: 0 } }",
  },
  open(url, config) {
    const fast = config === "fastest";
    const sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => {});
    const makeQueue = () => new Queue(QUEUE, { connection: url }, createPostgresBackend);
    let queue: ReturnType<typeof makeQueue> | undefined;
    const producer = () => (queue ??= makeQueue());
    const adapter: Adapter = {
      async install() {
        const client = await sql.connect();
        try {
          await runMigrations(client);
        } finally {
          client.release();
        }
      },
      async enqueue(payload) {
        await producer().add(QUEUE, payload);
      },
      async enqueueBatch(payloads, runAt) {
        const delay = runAt ? Math.max(0, runAt.getTime() - Date.now()) : undefined;
        await producer().addBulk(payloads.map((data) => ({ name: QUEUE, data, opts: delay ? { delay } : undefined })));
      },
      async addFinished(count) {
        // Negative sequence numbers and "h…" ids stay clear of the ones BullMQ hands out.
        await sql.query(
          `INSERT INTO bullmq.job (queue, id, seq, name, state, data, added_at_ms, processed_at_ms, finished_at_ms, attempts_made, attempts_started)
           SELECT $1, 'h' || g, -g, $1, 'completed', jsonb_build_object('i', g), t, t, t, 1, 1
           FROM generate_series(1, $2) g, (SELECT (extract(epoch FROM now()) * 1000)::bigint AS t) now`,
          [QUEUE, count],
        );
      },
      async work(concurrency, onJob) {
        const handler = async (job: { data: unknown }) => void onJob(job.data as Payload);
        const worker = fast
          ? new Worker(QUEUE, handler, { connection: { connectionString: url, max: concurrency + 2 }, concurrency, removeOnComplete: { count: 0 } }, createPostgresBackend)
          : new Worker(QUEUE, handler, { connection: url, concurrency }, createPostgresBackend);
        worker.on("error", (error) => console.error(`bullmq: ${error.message}`));
        await worker.waitUntilReady();
        return { stop: () => worker.close() };
      },
      async unfinished() {
        // The states that are not completed, failed or delayed, one count per
        // partial index: NOT IN matches none of them and would scan the table.
        const { rows } = await sql.query(
          `SELECT (SELECT count(*) FROM bullmq.job WHERE queue = $1 AND state = 'waiting')
                + (SELECT count(*) FROM bullmq.job WHERE queue = $1 AND state = 'active')
                + (SELECT count(*) FROM bullmq.job WHERE queue = $1 AND state = 'waiting-children') AS n`,
          [QUEUE],
        );
        return Number(rows[0].n);
      },
      async close() {
        await queue?.close();
        await sql.end();
      },
    };
    return adapter;
  },
};
