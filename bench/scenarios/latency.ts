import type { Scenario } from "../scenario.js";
import { percentile, sleep } from "../stats.js";

/**
 * An idle worker (concurrency 10, started a second before); jobs enqueued
 * `latencyGapMs` apart, not waiting for each other; the time from the start
 * of each enqueue call to the start of its handler, in this one process. A
 * job whose handler has not started `latencyTimeoutMs` after the last
 * enqueue counts with the time waited so far (a lower bound), and the result
 * says how many did.
 */
export const latency: Scenario = {
  name: "latency",
  describe: (s) => `idle worker (concurrency 10); ${s.latencyJobs} jobs enqueued ${s.latencyGapMs} ms apart; enqueue call start to handler start`,
  async run({ adapter, sizes }) {
    const n = sizes.latencyJobs;
    const sent = new Array<number>(n).fill(NaN);
    const began = new Array<number>(n).fill(NaN);
    let started = 0;
    let allStarted: () => void = () => {};
    const done = new Promise<void>((resolve) => (allStarted = resolve));
    const worker = await adapter.work(10, ({ i }) => {
      if (i >= 0 && i < n && Number.isNaN(began[i])) {
        began[i] = performance.now();
        if (++started === n) allStarted();
      }
    });
    try {
      await adapter.enqueue({ i: -1 }); // warm up the producer
      await sleep(1000);
      const calls: Promise<void>[] = [];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const wait = t0 + i * sizes.latencyGapMs - performance.now();
        if (wait > 0) await sleep(wait);
        sent[i] = performance.now();
        calls.push(adapter.enqueue({ i }));
      }
      await Promise.all(calls);
      await Promise.race([done, sleep(sizes.latencyTimeoutMs)]);
    } finally {
      await worker.stop();
    }
    const now = performance.now();
    const latencies = sent.map((s, i) => (Number.isNaN(began[i]!) ? now - s : began[i]! - s));
    const missed = n - started;
    const detail = { jobs: n, gapMs: sizes.latencyGapMs, missed, lowerBound: missed > 0 };
    return [50, 95, 99].map((p) => ({ metric: `p${p}`, value: percentile(latencies, p), unit: "ms", detail }));
  },
};
