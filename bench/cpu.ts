/**
 * Where the CPU of a drain goes, on this machine: the worker's own process
 * against every PostgreSQL process of the server.
 *
 *   bench/node_modules/.bin/node --import tsx bench/cpu.ts --system=djps [--config=defaults] [--jobs=100000] [--concurrency=10] [--server=18]
 *
 * Preloads the jobs, drains them with one worker in this process, and prints
 * the wall time and the CPU seconds of this process and of the server's
 * processes (from /proc, so Linux only) during the drain. With
 * `--profile=file.cpuprofile` it also writes a V8 CPU profile of this process
 * covering the drain alone (open it in Chrome's DevTools). With `--waiter=1`
 * (djps only) a second Queue waits for the last job of the drain with
 * `queue.waitFor()` the whole time, to see what a pending wait costs.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { toolArgs } from "./toolArgs.js";
import { startServer } from "./server.js";
import { preload, timeDrain } from "./scenarios/process.js";

const { args, system, config, jobs, concurrency, major } = await toolArgs(process.argv.slice(2), 100_000);
const TICK = 100; // clock ticks per second (USER_HZ)

/** CPU seconds of each postgres server process, by pid. */
function serverCpu(): Map<string, number> {
  const times = new Map<string, number>();
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (comm !== "postgres") continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      times.set(pid, (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICK);
    } catch {
      // the process ended meanwhile
    }
  }
  return times;
}

/** CPU seconds the server's processes spent since `before` (a process that ended meanwhile is not counted). */
function serverCpuSince(before: Map<string, number>): number {
  let total = 0;
  for (const [pid, seconds] of serverCpu()) total += seconds - (before.get(pid) ?? 0);
  return total;
}

const server = await startServer(major);
try {
  const url = await server.createDatabase("cpu");
  const adapter = system.open(url, config);
  try {
    await adapter.install();
    await preload(adapter, jobs, 1000);
    const profile = args.get("profile");
    const session = new Session();
    if (profile) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    }
    const waiter = args.get("waiter") === "1" && system.name === "djps" ? await startWaiter(url) : undefined;
    const pgBefore = serverCpu();
    const nodeBefore = process.cpuUsage();
    let seen = 0;
    const result = await timeDrain(adapter, jobs, 600_000, async () => [await adapter.work(concurrency, () => void seen++)], () => seen);
    const node = process.cpuUsage(nodeBefore);
    const pg = serverCpuSince(pgBefore);
    if (profile) {
      const { profile: data } = await session.post("Profiler.stop");
      writeFileSync(profile, JSON.stringify(data));
      session.disconnect();
    }
    await waiter?.finished();
    const wall = (result.detail?.seconds as number) ?? 0;
    const nodeSeconds = (node.user + node.system) / 1e6;
    console.log(JSON.stringify((globalThis as any).__claimStats));
    console.log(
      `${system.name} ${system.version} (${config}), PostgreSQL ${major}, c${concurrency}: ${Math.round(result.value)} jobs/s; wall ${wall.toFixed(2)} s; ` +
        `node ${nodeSeconds.toFixed(2)} s CPU (${((nodeSeconds * 1e6) / jobs).toFixed(1)} µs/job), ` +
        `server ${pg.toFixed(2)} s CPU (${((pg * 1e6) / jobs).toFixed(1)} µs/job)`,
    );
  } finally {
    await adapter.close();
  }
} finally {
  await server.stop();
}

/** A djps Queue waiting for the newest job of the drain (see `--waiter`). */
async function startWaiter(url: string): Promise<{ finished(): Promise<void> }> {
  const { Queue }: typeof import("../src/index.js") = await import(new URL("../dist/index.js", import.meta.url).href);
  const queue = new Queue({ connectionString: url });
  const { jobs } = await queue.listJobs({ limit: 1 });
  const waiting = queue.waitFor(jobs[0]!.id);
  return {
    async finished() {
      await waiting;
      await queue.close();
    },
  };
}
