import { median } from "./stats.js";

/** One JSON line of the results. */
export interface Measurement {
  kind: "measurement";
  rep: number;
  /** The PostgreSQL major version it ran on. */
  server: number;
  system: string;
  version: string;
  config: string;
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  detail?: Record<string, unknown>;
}

const COLUMNS: { title: string; scenario: string; metric: string }[] = [
  { title: "enqueue, 1 producer (jobs/s)", scenario: "enqueue-single-1", metric: "throughput" },
  { title: "enqueue, 10 producers (jobs/s)", scenario: "enqueue-single-10", metric: "throughput" },
  { title: "bulk enqueue (jobs/s)", scenario: "enqueue-bulk", metric: "throughput" },
  { title: "process c10 (jobs/s)", scenario: "process-c10", metric: "throughput" },
  { title: "process c50 (jobs/s)", scenario: "process-c50", metric: "throughput" },
  { title: "process 2 procs (jobs/s)", scenario: "process-2proc", metric: "throughput" },
  { title: "process 4 procs (jobs/s)", scenario: "process-4proc", metric: "throughput" },
  { title: "deep table c10 (jobs/s)", scenario: "deep-c10", metric: "throughput" },
  { title: "latency p50 (ms)", scenario: "latency", metric: "p50" },
  { title: "latency p95 (ms)", scenario: "latency", metric: "p95" },
  { title: "latency p99 (ms)", scenario: "latency", metric: "p99" },
  { title: "worker peak RSS, c50 (MB)", scenario: "memory-c50", metric: "peakRss" },
  { title: "worker RSS growth (%)", scenario: "memory-c50", metric: "rssGrowth" },
];
const LOWER_IS_BETTER = new Set(["p50", "p95", "p99", "peakRss", "rssGrowth"]);

interface Cell {
  value: number;
  min: number;
  max: number;
  /** Some repetition timed out (a partial rate, or a latency lower bound). */
  partial: boolean;
  reps: number;
}

function cell(ms: Measurement[]): Cell | undefined {
  if (ms.length === 0) return undefined;
  const partial = ms.some((m) => m.detail?.partial === true || m.detail?.lowerBound === true);
  const values = ms.map((m) => m.value);
  return { value: median(values), min: Math.min(...values), max: Math.max(...values), partial, reps: ms.length };
}

const fmt = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const show = (c: Cell | undefined): string => (c ? `${fmt(c.value)}${c.partial ? "*" : ""}` : "–");
/** The median, and the range below it when there was more than one repetition. */
const showRange = (c: Cell | undefined): string => (c && c.reps > 1 ? `${show(c)}<br><sub>${fmt(c.min)}–${fmt(c.max)}</sub>` : show(c));

/** The markdown tables: every system and configuration (medians), then djps against the best peer and the reference. */
export function markdown(results: Measurement[], reference: Measurement[]): string {
  const targets = [...new Map(results.map((m) => [`${m.system}\u0000${m.config}`, m])).values()];
  const cellOf = (system: string, config: string, col: (typeof COLUMNS)[number]) =>
    cell(results.filter((m) => m.system === system && m.config === config && m.scenario === col.scenario && m.metric === col.metric));
  const used = COLUMNS.filter((col) => results.some((m) => m.scenario === col.scenario));
  const lines: string[] = [];
  lines.push(`| system | version | config | ${used.map((c) => c.title).join(" | ")} |`);
  lines.push(`| --- | --- | --- | ${used.map(() => "---:").join(" | ")} |`);
  for (const t of targets) {
    lines.push(`| ${t.system} | ${t.version} | ${t.config} | ${used.map((col) => showRange(cellOf(t.system, t.config, col))).join(" | ")} |`);
  }
  const ref = cell(reference);
  lines.push("");
  lines.push(
    ref
      ? `Physical reference (pgbench, claim 100 with SKIP LOCKED and mark done, 4 clients): **${fmt(ref.value)} rows/s** (median of ${ref.reps}${ref.reps > 1 ? `, ${fmt(ref.min)}–${fmt(ref.max)}` : ""}).`
      : "Physical reference: not run.",
  );
  lines.push("");
  lines.push("`*`: at least one repetition hit its time limit: a partial rate (jobs finished ÷ time allowed), or a latency that is a lower bound.");
  const djps = targets.filter((t) => t.system === "djps");
  const peers = targets.filter((t) => t.system !== "djps");
  if (djps.length > 0 && peers.length > 0) {
    lines.push("");
    lines.push("djps against the best peer configuration of each column (throughput: higher is better; latency: lower is better), and the drain rates as a share of the physical reference:");
    lines.push("");
    lines.push("| measurement | djps | best peer (config) | djps ÷ best peer | djps ÷ reference |");
    lines.push("| --- | ---: | --- | ---: | ---: |");
    for (const col of used) {
      const mine = cellOf("djps", djps[0]!.config, col);
      const lower = LOWER_IS_BETTER.has(col.metric);
      let best: { t: Measurement; c: Cell } | undefined;
      for (const t of peers) {
        const c = cellOf(t.system, t.config, col);
        if (c && (!best || (lower ? c.value < best.c.value : c.value > best.c.value))) best = { t, c };
      }
      const ratio = mine && best ? mine.value / best.c.value : NaN;
      const drains = col.scenario.startsWith("process") || col.scenario.startsWith("deep");
      const ofRef = mine && ref && drains ? `${Math.round((mine.value / ref.value) * 100)}%` : "";
      lines.push(
        `| ${col.title} | ${show(mine)} | ${best ? `${show(best.c)} (${best.t.system} ${best.t.config})` : "–"} | ${Number.isNaN(ratio) ? "–" : `${ratio.toFixed(2)}×`} | ${ofRef} |`,
      );
    }
  }
  return lines.join("\n");
}
