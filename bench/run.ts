/**
 * The benchmark harness of issue 5: `npm run bench` (full) or
 * `npm run bench -- --quick` (smoke run). See docs/benchmarks.md.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, totalmem, availableParallelism } from "node:os";
import { dirname } from "node:path";
import { parseArgs } from "./options.js";
import { markdown, type Measurement } from "./report.js";
import type { Scenario } from "./scenario.js";
import { enqueueBulk } from "./scenarios/enqueueBulk.js";
import { enqueueSingle } from "./scenarios/enqueueSingle.js";
import { deepTable } from "./scenarios/deepTable.js";
import { latency } from "./scenarios/latency.js";
import { physicalReference, CLAIM_SCRIPT } from "./scenarios/pgbench.js";
import { processJobs } from "./scenarios/process.js";
import { memory } from "./scenarios/memory.js";
import { processProcs } from "./scenarios/processProcs.js";
import { startServer } from "./server.js";
import { SYSTEMS } from "./systems.js";

const SCENARIOS: Scenario[] = [
  enqueueSingle("one"),
  enqueueSingle("many"),
  enqueueBulk,
  processJobs(10),
  processJobs(50),
  processProcs(2),
  processProcs(4),
  latency,
  deepTable,
  memory,
];

const options = parseArgs(process.argv.slice(2));
const { sizes } = options;
const scenarios = SCENARIOS.filter((s) => !options.scenarios || options.scenarios.includes(s.name));
const withReference = !options.scenarios || options.scenarios.includes("pgbench");
// `--systems=djps,graphile-worker:fastest`: a system with all its configurations, or one of them.
const chosen = (name: string, config: string) => !options.systems || options.systems.includes(name) || options.systems.includes(`${name}:${config}`);
const targets = SYSTEMS.flatMap((system) => Object.keys(system.configs).map((config) => ({ system, config }))).filter((t) => chosen(t.system.name, t.config));
const systems = SYSTEMS.filter((s) => targets.some((t) => t.system === s));

mkdirSync(dirname(options.out), { recursive: true });
const jsonl = `${options.out}.jsonl`;
writeFileSync(jsonl, "");
const emit = (line: object): void => {
  const text = JSON.stringify(line);
  console.log(text);
  appendFileSync(jsonl, `${text}\n`);
};

// A database is dropped WITH (FORCE) after each measurement: a library pool that
// still holds an idle connection then gets "terminating connection due to
// administrator command" (57P01), which must not end the run.
process.on("uncaughtException", (error) => {
  if ((error as { code?: string }).code === "57P01") return;
  console.error(error);
  process.exit(1);
});

const cpu = cpus();
const machine = { cores: availableParallelism(), cpu: cpu[0]?.model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), freeGiB: +(freemem() / 2 ** 30).toFixed(1), node: process.version };
const servers = process.env.DATABASE_URL ? [options.servers[0]!] : options.servers;
const sections: string[] = [];
let failures = 0;
let dbCount = 0;

for (const [serverIndex, major] of servers.entries()) {
  const server = await startServer(major as 15 | 18);
  emit({
    kind: "run",
    at: new Date().toISOString(),
    mode: options.quick ? "quick" : "full",
    sizes,
    machine,
    server: server.info,
    systems: systems.map((s) => ({ name: s.name, version: s.version, configs: s.configs })),
    scenarios: scenarios.map((s) => ({ name: s.name, describe: s.describe(sizes) })),
    reference: CLAIM_SCRIPT.trim(),
  });
  const results: Measurement[] = [];
  const reference: Measurement[] = [];
  try {
    for (let rep = 1; rep <= sizes.repeats; rep++) {
      if (withReference) {
        const name = `bench_pgbench_${rep}`;
        const url = await server.createDatabase(name);
        try {
          const r = await physicalReference(url, sizes.pgbenchRows);
          const m: Measurement = { kind: "measurement", rep, server: major, system: "pgbench", version: String(r.detail?.pgbench ?? ""), config: "reference", scenario: "pgbench-claim", ...r };
          reference.push(m);
          emit(m);
        } catch (error) {
          failures++;
          emit({ kind: "error", rep, server: major, system: "pgbench", scenario: "pgbench-claim", message: (error as Error).message });
        } finally {
          await server.dropDatabase(name);
        }
      }
      for (const scenario of scenarios) {
        if (scenario.once && (rep > 1 || serverIndex > 0)) continue;
        // Interleaved: every system runs a scenario before the next one, in an order that rotates per repetition.
        const shift = (rep - 1) % targets.length;
        for (const { system, config } of [...targets.slice(shift), ...targets.slice(0, shift)]) {
          const name = `bench_${++dbCount}`;
          const url = await server.createDatabase(name);
          const adapter = system.open(url, config);
          try {
            await adapter.install();
            for (const r of await scenario.run({ system, config, sizes, url, adapter })) {
              const m: Measurement = { kind: "measurement", rep, server: major, system: system.name, version: system.version, config, scenario: scenario.name, ...r };
              results.push(m);
              emit(m);
            }
          } catch (error) {
            failures++;
            emit({ kind: "error", rep, server: major, system: system.name, config, scenario: scenario.name, message: (error as Error).stack ?? String(error) });
          } finally {
            await adapter.close().catch(() => {});
            await server.dropDatabase(name).catch(() => {});
          }
        }
      }
    }
  } finally {
    await server.stop();
  }
  const settings = Object.entries(server.info.settings).map(([k, v]) => `${k}=${v}`).join(", ");
  sections.push(`## PostgreSQL ${major}\n\nServer: ${server.info.version} (${server.info.source}); ${settings}\n\n${markdown(results, reference)}`);
}

const header = [
  `Run ${new Date().toISOString()} (${options.quick ? "quick smoke run" : "full run"}, ${sizes.repeats} repetition(s) interleaved: medians, with the range min–max below each)`,
  `Machine: ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.cpu}; Node ${process.version}`,
  "",
].join("\n\n");
const text = `${header}${sections.join("\n\n")}\n`;
writeFileSync(`${options.out}.md`, text);
console.log(`\n${text}`);
console.log(`Results: ${jsonl} and ${options.out}.md${failures ? ` (${failures} measurement(s) failed: see the "error" lines)` : ""}`);
process.exit(failures ? 1 : 0);
