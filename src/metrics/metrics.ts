import { z } from "zod";
import { intSchema, MAX_INT } from "../options.js";
import { Queue } from "../queue.js";
import type { JobSchemas, QueueStats } from "../types.js";
import { parse } from "../validate.js";
import { Worker } from "../worker/worker.js";
import { CONTENT_TYPE, render, type Family } from "./exposition.js";
import { queueFamilies } from "./queueGauges.js";
import { WorkerCounters } from "./workerCounters.js";

/** Options for `new Metrics()`. */
export interface MetricsOptions {
  /** Reads `stats()` from this queue's database for the queue gauges: a `Queue`, whatever its schemas. */
  queue?: Pick<Queue, "stats">;
  /** Workers of this process to count (more with `track`). */
  workers?: Worker<JobSchemas>[];
  /** How long a `stats()` result is reused, so that many scrapes do not each read the table. @default 5000 */
  statsCacheMs?: number;
}

const optionsSchema = z.strictObject(
  {
    queue: z.custom<Pick<Queue, "stats">>((v) => v instanceof Queue, { error: "a Queue" }).optional(),
    workers: z.array(z.custom<Worker<JobSchemas>>((v) => v instanceof Worker, { error: "a Worker" }), { error: "an array of Workers" }).optional(),
    statsCacheMs: intSchema(0, MAX_INT).optional(),
  },
  { error: "an options object { queue, workers, statsCacheMs }" },
);

/**
 * Prometheus metrics: the queue gauges from `queue.stats()` (database-wide)
 * and the counters and duration histograms of this process's workers.
 * @example
 * const metrics = new Metrics({ queue, workers: [worker] });
 * app.get("/metrics", async (_req, res) => res.type(metrics.contentType).send(await metrics.render()));
 */
export class Metrics {
  /** The Content-Type of `render()`'s text. */
  readonly contentType = CONTENT_TYPE;
  readonly #queue: Pick<Queue, "stats"> | undefined;
  readonly #counters = new WorkerCounters();
  readonly #cacheMs: number;
  #stats: { at: number; value: Promise<QueueStats> } | undefined;

  /**
   * Creates the metrics of a queue's database and of this process's workers;
   * nothing is read until `render()`.
   * @throws {@link ValidationError} for invalid options (e.g. `workers` holding something other than a Worker).
   */
  constructor(options: MetricsOptions = {}) {
    const o = parse(optionsSchema, options, "options");
    this.#queue = o.queue;
    this.#cacheMs = o.statsCacheMs ?? 5000;
    for (const worker of o.workers ?? []) this.#counters.track(worker);
  }

  /**
   * Counts this worker's jobs too, from now on.
   * @returns this, for chaining.
   * @throws {@link ValidationError} when `worker` is not a Worker.
   */
  track(worker: Worker<JobSchemas>): this {
    this.#counters.track(parse(z.custom<Worker<JobSchemas>>((v) => v instanceof Worker, { error: "a Worker" }), worker, "worker"));
    return this;
  }

  /** The metrics in the Prometheus text format. Rejects if the queue's database cannot be read. */
  async render(): Promise<string> {
    const families: Family[] = [];
    if (this.#queue) families.push(...queueFamilies(await this.#cachedStats(this.#queue)));
    families.push(...this.#counters.families());
    return render(families);
  }

  #cachedStats(queue: Pick<Queue, "stats">): Promise<QueueStats> {
    const now = Date.now();
    if (!this.#stats || now - this.#stats.at >= this.#cacheMs) {
      const value = queue.stats();
      this.#stats = { at: now, value };
      // A failed read is not cached: the next scrape tries again.
      value.catch(() => {
        if (this.#stats?.value === value) this.#stats = undefined;
      });
    }
    return this.#stats.value;
  }
}
