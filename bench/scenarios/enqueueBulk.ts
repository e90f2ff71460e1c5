import type { Scenario } from "../scenario.js";
import type { Adapter } from "../system.js";

/** Enqueues `total` jobs through the bulk API, `batchSize` per call, one call after another. */
export async function enqueueInBatches(adapter: Adapter, total: number, batchSize: number, runAt?: Date, first = 0): Promise<void> {
  for (let from = 0; from < total; from += batchSize) {
    const size = Math.min(batchSize, total - from);
    await adapter.enqueueBatch(Array.from({ length: size }, (_, k) => ({ i: first + from + k })), runAt);
  }
}

export const enqueueBulk: Scenario = {
  name: "enqueue-bulk",
  describe: (s) => `${s.bulkJobs} jobs through the bulk API in batches of ${s.batchSize}`,
  async run({ adapter, sizes }) {
    await adapter.enqueueBatch([{ i: -1 }]); // warm up
    const start = performance.now();
    await enqueueInBatches(adapter, sizes.bulkJobs, sizes.batchSize);
    const seconds = (performance.now() - start) / 1000;
    return [{ metric: "throughput", value: sizes.bulkJobs / seconds, unit: "jobs/s", detail: { jobs: sizes.bulkJobs, batch: sizes.batchSize, seconds } }];
  },
};
