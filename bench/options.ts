/**
 * Sizes and choices of a benchmark run, from the command line:
 *
 *   npm run bench                      the full run (sizes of issue 5)
 *   npm run bench -- --quick           a small smoke run of every scenario
 *   npm run bench -- --quick --systems=djps,pg-boss --scenarios=process-c10,latency
 *   npm run bench -- --systems=djps,graphile-worker:fastest   (one configuration of a system)
 *   npm run bench -- --process-jobs=100000 --repeats=5 --out=bench/results/mine
 *   npm run bench -- --servers=15 --memory-seconds=60
 *
 * Every field of `Sizes` can be set as `--kebab-case-name=value`.
 */
export interface Sizes {
  /** Jobs per enqueue-single measurement (one awaited call at a time, per producer). */
  singleJobs: number;
  /** Concurrent producers of the second enqueue-single measurement. */
  producers: number;
  /** Jobs per enqueue-bulk measurement. */
  bulkJobs: number;
  /** Jobs per bulk call. */
  batchSize: number;
  /** Jobs preloaded for each process measurement. */
  processJobs: number;
  /** Concurrency of each of the worker processes in process-2proc. */
  procConcurrency: number;
  /** Worker processes in process-2proc. */
  workerProcs: number;
  /** Give up on a process measurement after this long and report the partial rate. */
  processTimeoutMs: number;
  /** Jobs of the latency measurement, and the gap between their enqueues. */
  latencyJobs: number;
  latencyGapMs: number;
  /** How long to wait for the last latency job after the last enqueue. */
  latencyTimeoutMs: number;
  /** Finished and scheduled-for-later jobs already in the table for the deep-table measurement. */
  deepFinished: number;
  deepFuture: number;
  /** Rows claimed by the pgbench reference (100 per transaction, 4 clients). */
  pgbenchRows: number;
  /** How long the memory scenario's worker runs, in seconds. */
  memorySeconds: number;
  /** Repetitions of every measurement (the table shows the median, and the range). */
  repeats: number;
}

export const FULL: Sizes = {
  singleJobs: 5_000,
  producers: 10,
  bulkJobs: 100_000,
  batchSize: 1_000,
  processJobs: 50_000,
  procConcurrency: 10,
  workerProcs: 2,
  processTimeoutMs: 60_000,
  latencyJobs: 200,
  latencyGapMs: 20,
  latencyTimeoutMs: 30_000,
  deepFinished: 1_000_000,
  deepFuture: 100_000,
  pgbenchRows: 2_000_000,
  memorySeconds: 600,
  repeats: 5,
};

export const QUICK: Sizes = {
  ...FULL,
  singleJobs: 200,
  bulkJobs: 2_000,
  processJobs: 2_000,
  processTimeoutMs: 3_000,
  latencyJobs: 50,
  latencyTimeoutMs: 2_000,
  deepFinished: 20_000,
  deepFuture: 2_000,
  pgbenchRows: 50_000,
  memorySeconds: 10,
  repeats: 1,
};

export interface RunOptions {
  quick: boolean;
  sizes: Sizes;
  /** System names to run (default: all). */
  systems: string[] | null;
  /** Scenario names to run (default: all). */
  scenarios: string[] | null;
  /** PostgreSQL major versions to run against, one table each (ignored with DATABASE_URL). */
  servers: number[];
  /** Results go to `<out>.jsonl` and `<out>.md`. */
  out: string;
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function parseArgs(argv: string[]): RunOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`Unknown argument ${arg}: use --name=value`);
    flags.set(match[1]!, match[2] ?? "true");
  }
  const quick = flags.get("quick") === "true";
  flags.delete("quick");
  const sizes: Sizes = { ...(quick ? QUICK : FULL) };
  for (const key of Object.keys(sizes) as (keyof Sizes)[]) {
    const value = flags.get(kebab(key));
    if (value === undefined) continue;
    const n = Number(value.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${kebab(key)} must be a positive integer`);
    sizes[key] = n;
    flags.delete(kebab(key));
  }
  const list = (name: string): string[] | null => {
    const value = flags.get(name);
    flags.delete(name);
    return value ? value.split(",").map((s) => s.trim()).filter(Boolean) : null;
  };
  const systems = list("systems");
  const scenarios = list("scenarios");
  const servers = (list("servers") ?? (quick ? ["18"] : ["18", "15"])).map((v) => {
    if (v !== "18" && v !== "15") throw new Error(`--servers takes 18 and 15, got ${v}`);
    return Number(v);
  });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const out = flags.get("out") ?? `bench/results/${quick ? "quick" : "full"}-${stamp}`;
  flags.delete("out");
  if (flags.size > 0) throw new Error(`Unknown option(s): ${[...flags.keys()].map((k) => `--${k}`).join(", ")}`);
  return { quick, sizes, systems, scenarios, servers, out };
}
