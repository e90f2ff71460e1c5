import type { Scenario } from "../scenario.js";

/** N jobs, one awaited enqueue at a time per producer; `producers` of them at once. */
export function enqueueSingle(producers: "one" | "many"): Scenario {
  return {
    name: producers === "one" ? "enqueue-single-1" : "enqueue-single-10",
    describe: (s) =>
      producers === "one"
        ? `${s.singleJobs} jobs, one awaited enqueue call at a time`
        : `${s.singleJobs} jobs, ${s.producers} producers each awaiting one call at a time`,
    async run({ adapter, sizes }) {
      const count = producers === "one" ? 1 : sizes.producers;
      await adapter.enqueue({ i: -1 }); // warm up: pools connected, statements prepared
      let next = 0;
      const producer = async () => {
        for (let i = next++; i < sizes.singleJobs; i = next++) await adapter.enqueue({ i });
      };
      const start = performance.now();
      await Promise.all(Array.from({ length: count }, producer));
      const seconds = (performance.now() - start) / 1000;
      return [{ metric: "throughput", value: sizes.singleJobs / seconds, unit: "jobs/s", detail: { jobs: sizes.singleJobs, producers: count, seconds } }];
    },
  };
}
