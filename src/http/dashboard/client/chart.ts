import { h, svg } from "./elements.js";
import type { MinuteCounts } from "./types.js";

const SERIES = ["succeeded", "failed", "dead"] as const;
const WIDTH = 600;
const HEIGHT = 120;

/**
 * Outcomes per minute over the last hour as stacked bars in plain SVG, with
 * a text summary for screen readers and a legend that names each colour.
 */
export function throughputChart(minutes: readonly MinuteCounts[]): HTMLElement {
  const totals = { succeeded: 0, failed: 0, dead: 0 };
  let peak = 0;
  for (const m of minutes) {
    for (const s of SERIES) totals[s] += m[s];
    peak = Math.max(peak, m.succeeded + m.failed + m.dead);
  }
  const summary = `Last hour: ${totals.succeeded} succeeded, ${totals.failed} failed attempts, ${totals.dead} dead; busiest minute ${peak}`;
  const barWidth = WIDTH / Math.max(1, minutes.length);
  const bars: SVGElement[] = [];
  minutes.forEach((m, i) => {
    let y = HEIGHT;
    for (const s of SERIES) {
      if (m[s] === 0 || peak === 0) continue;
      const height = (m[s] / peak) * (HEIGHT - 4);
      y -= height;
      bars.push(
        svg(
          "rect",
          { x: (i * barWidth + 1).toFixed(1), y: y.toFixed(1), width: Math.max(1, barWidth - 2).toFixed(1), height: height.toFixed(1), class: `bar-${s}` },
          svg("title", {}, document.createTextNode(`${new Date(m.minute).toLocaleTimeString()}: ${m[s]} ${s}`)),
        ),
      );
    }
  });
  const title = svg("title", {}, document.createTextNode(summary));
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": summary, class: "chart", preserveAspectRatio: "none" }, title, ...bars);
  return h(
    "figure",
    { class: "throughput" },
    chart,
    h(
      "figcaption",
      {},
      h("span", { class: "axis" }, "60 min ago"),
      h("span", { class: "legend" }, ...SERIES.map((s) => h("span", { class: `key key-${s}` }, `${s === "failed" ? "failed attempts" : s} ${totals[s]}`))),
      h("span", { class: "axis" }, `now · peak ${peak}/min`),
    ),
  );
}
