/**
 * A worker process of the process-Nproc and memory scenarios:
 *   node --import tsx bench/child.ts <system> <config> <database url> <concurrency>
 * Loads the system's adapter and prints "ready"; on "go" (a line on stdin)
 * starts a worker running no-op jobs and prints "started"; on "rss" prints
 * "rss <resident bytes> <peak resident bytes>"; on "handled" prints
 * "handled <jobs its handler ran>"; on "stop" stops it and exits.
 * It exits by itself when its stdin closes (the parent died).
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { loadSystem } from "./loadSystem.js";
import type { WorkerHandle } from "./system.js";

const [name, config, url, concurrency] = process.argv.slice(2);
const adapter = (await loadSystem(name!)).open(url!, config!);
let handle: WorkerHandle | undefined;
let handled = 0;

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  try {
    if (line === "go") {
      handle = await adapter.work(Number(concurrency), () => void handled++);
      process.stdout.write("started\n");
    } else if (line === "rss") {
      // VmHWM: the kernel's high-water mark of this process's resident set (Linux).
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
      const rss = process.memoryUsage().rss;
      process.stdout.write(`rss ${rss} ${hwm ? Number(hwm[1]) * 1024 : rss}\n`);
    } else if (line === "handled") {
      process.stdout.write(`handled ${handled}\n`);
    } else if (line === "stop") {
      await handle?.stop();
      await adapter.close();
      process.stdout.write("stopped\n");
      process.exit(0);
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  }
});
lines.on("close", () => process.exit(1));
process.stdout.write("ready\n");
