import type { Result, Scenario } from "../scenario.js";
import type { Adapter, WorkerHandle } from "../system.js";
import { sleep } from "../stats.js";
import { enqueueInBatches } from "./enqueueBulk.js";

/**
 * Times `start()` (which starts the workers) until the database shows none
 * of the `total` due jobs unfinished, polling every 20 ms; gives up after
 * `timeoutMs` and reports the rate reached so far, marked partial.
 */
export async function timeDrain(adapter: Adapter, total: number, timeoutMs: number, start: () => Promise<WorkerHandle[]>): Promise<Result> {
  const began = performance.now();
  const handles = await start();
  let left = total;
  let elapsed = 0;
  for (;;) {
    left = await adapter.unfinished();
    elapsed = performance.now() - began;
    if (left === 0 || elapsed > timeoutMs) break;
    await sleep(20);
  }
  await Promise.all(handles.map((h) => h.stop()));
  const done = total - left;
  const seconds = elapsed / 1000;
  return { metric: "throughput", value: done / seconds, unit: "jobs/s", detail: { jobs: total, done, seconds, partial: left > 0 } };
}

/** Preloads the jobs of a process measurement (not timed). */
export async function preload(adapter: Adapter, total: number, batchSize: number): Promise<void> {
  await enqueueInBatches(adapter, total, batchSize);
}

/** N no-op jobs preloaded, then one worker of the given concurrency in this process. */
export function processJobs(concurrency: number): Scenario {
  return {
    name: `process-c${concurrency}`,
    describe: (s) => `${s.processJobs} preloaded no-op jobs, one worker in this process at concurrency ${concurrency}, until the database shows all finished`,
    async run({ adapter, sizes }) {
      await preload(adapter, sizes.processJobs, sizes.batchSize);
      let seen = 0;
      const result = await timeDrain(adapter, sizes.processJobs, sizes.processTimeoutMs, async () => [await adapter.work(concurrency, () => void seen++)]);
      result.detail = { ...result.detail, concurrency, handlerCalls: seen };
      return [result];
    },
  };
}
