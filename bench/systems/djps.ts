import pg from "pg";
import type { Adapter, Payload, System } from "../system.js";

// The build (typed from the source it is built from, so that type checks need no build).
const { Queue, Worker, migrate }: typeof import("../../src/index.js") = await import(new URL("../../dist/index.js", import.meta.url).href);
type Queue = import("../../src/index.js").Queue;

const TYPE = "noop";

/**
 * djps as it ships, the build of this working tree (`npm run bench` builds it
 * first; bench/cpu.ts and bench/profile.ts need `npm run build`), with its
 * defaults only: they must be the fast path.
 */
export const djps: System = {
  name: "djps",
  version: "working tree",
  configs: { defaults: "new Queue(), new Worker(handlers, { concurrency }): nothing else set" },
  open(url) {
    const sql = new pg.Pool({ connectionString: url, max: 2 });
    sql.on("error", () => {});
    let queue: Queue | undefined;
    const producer = () => (queue ??= new Queue({ connectionString: url }));
    const adapter: Adapter = {
      async install() {
        await migrate({ connectionString: url });
      },
      async enqueue(payload) {
        await producer().enqueue(TYPE, payload);
      },
      async enqueueBatch(payloads, runAt) {
        await producer().enqueueMany(payloads.map((payload) => ({ type: TYPE, payload, options: runAt ? { runAt } : undefined })));
      },
      async addFinished(count) {
        await sql.query(
          `INSERT INTO djps.jobs (type, payload, status, attempts, locked_by, started_at, finished_at)
           SELECT $1, jsonb_build_object('i', g), 'succeeded', 1, 'history', now(), now() FROM generate_series(1, $2) g`,
          [TYPE, count],
        );
      },
      async work(concurrency, onJob) {
        const worker = new Worker({ [TYPE]: async (payload) => void onJob(payload as Payload) }, { connectionString: url, concurrency });
        await worker.start();
        return { stop: () => worker.stop() };
      },
      async unfinished() {
        // Two counts, each over its partial index (claimable, running): a single
        // count over three statuses matches neither index and scans the whole
        // table every 20 ms, which on the deep table took both cores.
        const { rows } = await sql.query(
          `SELECT (SELECT count(*) FROM djps.jobs WHERE status IN ('queued', 'failed') AND run_at <= now())
                + (SELECT count(*) FROM djps.jobs WHERE status = 'running' AND run_at <= now()) AS n`,
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
