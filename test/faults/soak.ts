/**
 * The long fault run: every scenario in turn, at a larger size, until the
 * time is up; prints each run's figures and the totals, and exits non-zero
 * if any invariant broke.
 *
 *   npm run soak -- --minutes 10 [--jobs 2000] [--workers 4] [--faults 12]
 *
 * Uses DATABASE_URL when set (except the server-restart scenario, which
 * always crashes a server of its own), otherwise an embedded PostgreSQL.
 */
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { startPostgres } from "../support/postgres.js";
import { describeVerdict, type Verdict } from "./invariants.js";
import { SCENARIOS, type Size } from "./scenarios.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    jobs: { type: "string", default: "2000" },
    workers: { type: "string", default: "4" },
    faults: { type: "string", default: "12" },
  },
});
const deadline = Date.now() + Number(values.minutes) * 60_000;
const size: Size = { jobs: Number(values.jobs), workers: Number(values.workers), faults: Number(values.faults), jobMs: 15 };

const server = await startPostgres({ settings: { max_connections: 300 } });
console.log(`soak: ${values.minutes} min, ${size.jobs} jobs × ${size.workers} workers × ${size.faults} faults per run; ` +
  `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; server: ${server.source}`);

const totals = { runs: 0, jobs: 0, executions: 0, violations: 0, reExecutions: {} as Record<string, number>, faults: {} as Record<string, number> };
const started = Date.now();
try {
  outer: for (;;) {
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      if (Date.now() > deadline) break outer;
      const verdict: Verdict = await scenario(server.url, size);
      console.log(describeVerdict(name, verdict));
      for (const v of verdict.violations.slice(0, 20)) console.log(`  VIOLATION ${v}`);
      totals.runs++;
      totals.jobs += verdict.jobs;
      totals.executions += verdict.executions;
      totals.violations += verdict.violations.length;
      for (const [k, n] of Object.entries(verdict.reExecutions)) totals.reExecutions[k] = (totals.reExecutions[k] ?? 0) + n;
      for (const [k, n] of Object.entries(verdict.faults)) totals.faults[k] = (totals.faults[k] ?? 0) + n;
    }
  }
} finally {
  await server.stop();
}
const fmt = (r: Record<string, number>) => Object.entries(r).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
console.log(`\nsoak total: ${((Date.now() - started) / 60_000).toFixed(1)} min, ${totals.runs} runs, ${totals.jobs} jobs, ${totals.executions} executions`);
console.log(`re-executions explained: ${fmt(totals.reExecutions) || "none"}`);
console.log(`faults injected: ${fmt(totals.faults) || "none"}`);
console.log(`violations: ${totals.violations}`);
process.exit(totals.violations === 0 ? 0 : 1);
