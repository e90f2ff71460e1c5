import pg from "pg";
import type { Scenario } from "../scenario.js";
import { enqueueInBatches } from "./enqueueBulk.js";
import { preload, timeDrain } from "./process.js";

/**
 * The process scenario at concurrency 10 again, with history in the table:
 * `deepFinished` finished jobs (written by SQL into the system's own table,
 * except where the system deletes finished jobs) and `deepFuture` jobs
 * scheduled a day ahead (through the bulk API), then VACUUM ANALYZE, as
 * autovacuum would have done on a table that grew this way.
 */
export const deepTable: Scenario = {
  name: "deep-c10",
  describe: (s) => `as process-c10, with ${s.deepFinished} finished and ${s.deepFuture} scheduled-for-later jobs already in the table`,
  async run({ adapter, sizes, url }) {
    await adapter.addFinished(sizes.deepFinished);
    await enqueueInBatches(adapter, sizes.deepFuture, sizes.batchSize, new Date(Date.now() + 86_400_000), 1_000_000_000);
    await preload(adapter, sizes.processJobs, sizes.batchSize);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query("VACUUM ANALYZE");
    } finally {
      await client.end();
    }
    let seen = 0;
    const result = await timeDrain(
      adapter,
      sizes.processJobs,
      sizes.processTimeoutMs,
      async () => [await adapter.work(10, () => void seen++)],
      () => seen,
    );
    result.detail = { ...result.detail, concurrency: 10, finished: sizes.deepFinished, future: sizes.deepFuture };
    return [result];
  },
};
