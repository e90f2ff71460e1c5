import type { Result, Scenario } from "../scenario.js";
import type { Adapter, WorkerHandle } from "../system.js";
import { sleep } from "../stats.js";
import { enqueueInBatches } from "./enqueueBulk.js";

/**
 * Times `start()` (which starts the workers) until the database shows none
 * of the `total` due jobs unfinished; gives up after `timeoutMs` and reports
 * the rate reached so far, marked partial.
 *
 * `handled()` counts the handler calls so far. Until it reaches `total` the
 * drain is watched without touching the database (every 5 ms); only then is
 * the system's table polled, every 5 ms, for the completions to show. A
 * count over a table in full churn costs the server milliseconds, and on a
 * small machine a poll every few milliseconds through the whole drain took
 * CPU from the system being measured.
 */
export async function timeDrain(
  adapter: Adapter,
  total: number,
  timeoutMs: number,
  start: () => Promise<WorkerHandle[]>,
  handled: () => number | Promise<number>,
): Promise<Result> {
  const began = performance.now();
  const handles = await start();
  let left = total;
  let elapsed = 0;
  while ((await handled()) < total && performance.now() - began <= timeoutMs) await sleep(5);
  for (;;) {
    left = await adapter.unfinished();
    elapsed = performance.now() - began;
    if (left === 0 || elapsed > timeoutMs) break;
    await sleep(5);
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
      const result = await timeDrain(
        adapter,
        sizes.processJobs,
        sizes.processTimeoutMs,
        async () => [await adapter.work(concurrency, () => void seen++)],
        () => seen,
      );
      result.detail = { ...result.detail, concurrency, handlerCalls: seen };
      return [result];
    },
  };
}
