/**
 * A worker process of the process-2proc scenario:
 *   node --import tsx bench/child.ts <system> <config> <database url> <concurrency>
 * Loads the system's adapter and prints "ready"; on "go" (a line on stdin)
 * starts a worker running no-op jobs and prints "started"; on "stop" stops
 * it and exits. It exits by itself when its stdin closes (the parent died).
 */
import { createInterface } from "node:readline";
import { systemNamed } from "./systems.js";
import type { WorkerHandle } from "./system.js";

const [name, config, url, concurrency] = process.argv.slice(2);
const adapter = systemNamed(name!).open(url!, config!);
let handle: WorkerHandle | undefined;

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  try {
    if (line === "go") {
      handle = await adapter.work(Number(concurrency), () => {});
      process.stdout.write("started\n");
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
