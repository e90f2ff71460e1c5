import type { Labels, Sample } from "./exposition.js";

/** Upper bounds in seconds: from a few milliseconds (no-op jobs) to ten minutes (batch work). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** A cumulative histogram per label set, rendered as Prometheus `_bucket`, `_sum` and `_count` samples. */
export class Histogram {
  readonly #name: string;
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(name: string, buckets: readonly number[] = DURATION_BUCKETS) {
    this.#name = name;
    this.#buckets = buckets;
  }

  observe(labels: Labels, value: number): void {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (!series) this.#series.set(key, (series = { labels, counts: this.#buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.#buckets.length; i++) if (value <= this.#buckets[i]!) series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  samples(): Sample[] {
    const out: Sample[] = [];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      this.#buckets.forEach((le, i) => out.push({ labels: { __name__: `${this.#name}_bucket`, ...labels, le: String(le) }, value: counts[i]! }));
      out.push({ labels: { __name__: `${this.#name}_bucket`, ...labels, le: "+Inf" }, value: count });
      out.push({ labels: { __name__: `${this.#name}_sum`, ...labels }, value: sum });
      out.push({ labels: { __name__: `${this.#name}_count`, ...labels }, value: count });
    }
    return out;
  }
}
