/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: a
 * few dozen lines, where prom-client would be a dependency for every user.
 * Users of prom-client can still read `Metrics.render()` into a custom
 * collector, or scrape it beside their own registry.
 */

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  samples: Sample[];
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** `name{a="x",b="y"} value` lines for a sample (histogram samples carry their own suffixed names in `labels.__name__`). */
function line(name: string, sample: Sample): string {
  const { __name__: own, ...labels } = sample.labels as Record<string, string>;
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${own ?? name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${formatValue(sample.value)}`;
}

/** Renders families in order, each with its HELP and TYPE lines. */
export function render(families: readonly Family[]): string {
  const out: string[] = [];
  for (const family of families) {
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    out.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) out.push(line(family.name, sample));
  }
  return `${out.join("\n")}\n`;
}
