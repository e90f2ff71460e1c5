import type { Scenario } from "../scenario.js";
import { spawnWorker } from "../workerProcess.js";
import { preload, timeDrain } from "./process.js";

/** N no-op jobs preloaded, then `procs` worker processes, each at `procConcurrency`. */
export function processProcs(procs: number): Scenario {
  return {
    name: `process-${procs}proc`,
    describe: (s) => `${s.processJobs} preloaded no-op jobs, ${procs} worker processes at concurrency ${s.procConcurrency} each, until the database shows all finished (timed from "go", after the processes have loaded)`,
    async run({ adapter, sizes, system, config, url }) {
      await preload(adapter, sizes.processJobs, sizes.batchSize);
      const children = Array.from({ length: procs }, () => spawnWorker(system.name, config, url, sizes.procConcurrency));
      try {
        await Promise.all(children.map((c) => c.next("ready")));
        const result = await timeDrain(adapter, sizes.processJobs, sizes.processTimeoutMs, async () => {
          const started = children.map((c) => c.next("started"));
          for (const c of children) c.send("go");
          await Promise.all(started);
          return children.map((c) => ({ stop: () => c.stop() }));
        }, async () => (await Promise.all(children.map((c) => c.handled()))).reduce((a, b) => a + b, 0));
        result.detail = { ...result.detail, processes: procs, concurrency: sizes.procConcurrency };
        return [result];
      } finally {
        for (const c of children) if (c.process.exitCode === null) c.process.kill("SIGKILL");
      }
    },
  };
}
