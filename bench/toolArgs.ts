import { loadSystem } from "./loadSystem.js";
import type { System } from "./system.js";

/** What bench/profile.ts and bench/cpu.ts take from `--name=value` arguments. */
export interface ToolArgs {
  /** Every `--name=value` given, for a tool's own extras. */
  args: Map<string, string>;
  system: System;
  config: string;
  jobs: number;
  concurrency: number;
  major: 15 | 18;
}

/** `--system=djps [--config=...] [--jobs=N] [--concurrency=10] [--server=18]`, with the system loaded. */
export async function toolArgs(argv: readonly string[], defaultJobs: number): Promise<ToolArgs> {
  const args = new Map(argv.map((a) => /^--([a-z]+)=(.*)$/.exec(a)).filter((m) => m !== null).map((m) => [m![1]!, m![2]!]));
  const system = await loadSystem(args.get("system") ?? "djps");
  return {
    args,
    system,
    config: args.get("config") ?? Object.keys(system.configs)[0]!,
    jobs: Number(args.get("jobs") ?? defaultJobs),
    concurrency: Number(args.get("concurrency") ?? 10),
    major: Number(args.get("server") ?? 18) as 15 | 18,
  };
}
