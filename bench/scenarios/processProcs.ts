import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Scenario } from "../scenario.js";
import { preload, timeDrain } from "./process.js";

const CHILD = fileURLToPath(new URL("../child.ts", import.meta.url));

/** A worker process (bench/child.ts) that has loaded its system and waits for "go". */
interface Child {
  process: ChildProcess;
  /** Resolves on the next line the child prints that equals `word`. */
  next(word: string): Promise<void>;
}

function spawnChild(args: string[]): Child {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const waiting = new Map<string, () => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => waiting.get(line)?.());
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`worker process exited with ${code}`))));
  exited.catch(() => {});
  return {
    process: child,
    next: (word) => Promise.race([new Promise<void>((resolve) => waiting.set(word, resolve)), exited]),
  };
}

/** N no-op jobs preloaded, then `workerProcs` worker processes, each at `procConcurrency`. */
export const processProcs: Scenario = {
  name: "process-2proc",
  describe: (s) => `${s.processJobs} preloaded no-op jobs, ${s.workerProcs} worker processes at concurrency ${s.procConcurrency} each, until the database shows all finished (timed from "go", after the processes have loaded)`,
  async run({ adapter, sizes, system, config, url }) {
    await preload(adapter, sizes.processJobs, sizes.batchSize);
    const children = Array.from({ length: sizes.workerProcs }, () => spawnChild([system.name, config, url, String(sizes.procConcurrency)]));
    try {
      await Promise.all(children.map((c) => c.next("ready")));
      const result = await timeDrain(adapter, sizes.processJobs, sizes.processTimeoutMs, async () => {
        const started = children.map((c) => c.next("started"));
        for (const c of children) c.process.stdin!.write("go\n");
        await Promise.all(started);
        return children.map((c) => ({
          stop: async () => {
            const stopped = c.next("stopped");
            c.process.stdin!.write("stop\n");
            await stopped;
          },
        }));
      });
      result.detail = { ...result.detail, processes: sizes.workerProcs, concurrency: sizes.procConcurrency };
      return [result];
    } finally {
      for (const c of children) if (c.process.exitCode === null) c.process.kill("SIGKILL");
    }
  },
};
