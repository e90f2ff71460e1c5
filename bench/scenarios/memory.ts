import type { Scenario } from "../scenario.js";
import { sleep } from "../stats.js";
import { spawnWorker } from "../workerProcess.js";
import { enqueueInBatches } from "./enqueueBulk.js";

/** The backlog the feeder keeps in front of the worker. */
const BACKLOG = 5_000;
/** How often the feeder tops the backlog up and the worker's memory is read. */
const TICK_MS = 250;
/** The share of the run after which the worker counts as warm: growth is measured from there. */
const WARM_UP = 0.1;

const mb = (bytes: number) => bytes / 2 ** 20;

/**
 * One worker process at concurrency 50 runs no-op jobs for `memorySeconds`
 * while this process keeps about 5,000 jobs waiting. Reports the worker
 * process's peak RSS (the kernel's high-water mark, VmHWM) and how much its
 * RSS grew from the end of the warm-up (the first tenth of the run) to the
 * end: a flat line is what a long-running worker needs.
 */
export const memory: Scenario = {
  name: "memory-c50",
  once: true,
  describe: (s) =>
    `one worker process at concurrency 50 for ${s.memorySeconds} s with ~${BACKLOG} jobs kept waiting: its peak RSS, and its RSS growth from the end of the first tenth of the run to the end`,
  async run({ adapter, sizes, system, config, url }) {
    await enqueueInBatches(adapter, BACKLOG, sizes.batchSize);
    const child = spawnWorker(system.name, config, url, 50);
    try {
      await child.next("ready");
      const started = child.next("started");
      child.send("go");
      await started;
      const read = async () => {
        const answer = child.next("rss");
        child.send("rss");
        const [, rss, hwm] = (await answer).split(" ");
        return { rss: Number(rss), hwm: Number(hwm) };
      };
      const began = performance.now();
      const durationMs = sizes.memorySeconds * 1000;
      let warm: number | undefined;
      let last = { rss: 0, hwm: 0 };
      let fed = BACKLOG;
      while (performance.now() - began < durationMs) {
        await sleep(TICK_MS);
        const waiting = await adapter.unfinished();
        if (waiting < BACKLOG) {
          const add = Math.ceil((BACKLOG - waiting) / sizes.batchSize) * sizes.batchSize;
          await enqueueInBatches(adapter, add, sizes.batchSize);
          fed += add;
        }
        last = await read();
        if (warm === undefined && performance.now() - began >= durationMs * WARM_UP) warm = last.rss;
      }
      await child.stop();
      const growth = warm ? ((last.rss - warm) / warm) * 100 : NaN;
      const detail = { seconds: sizes.memorySeconds, jobsFed: fed, warmRssMB: warm ? +mb(warm).toFixed(1) : null, endRssMB: +mb(last.rss).toFixed(1) };
      return [
        { metric: "peakRss", value: mb(last.hwm), unit: "MB", detail },
        { metric: "rssGrowth", value: growth, unit: "%", detail },
      ];
    } finally {
      if (child.process.exitCode === null) child.process.kill("SIGKILL");
    }
  },
};
