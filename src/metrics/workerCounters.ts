import type { JobSchemas } from "../types.js";
import type { Worker } from "../worker/worker.js";
import type { Family } from "./exposition.js";
import { Histogram } from "./histogram.js";

const OUTCOMES = ["started", "succeeded", "failed", "dead", "snoozed", "released", "lease_lost"] as const;
type Outcome = (typeof OUTCOMES)[number];

/**
 * Counts what the workers of this process do, from their typed events (so
 * nothing is added to the job path): jobs by type and outcome, handler
 * durations by type and outcome, rescued and pruned jobs, and errors.
 */
export class WorkerCounters {
  readonly #jobs = new Map<string, number>();
  readonly #durations = new Histogram("djps_job_duration_seconds");
  readonly #workers = new Set<Worker<JobSchemas>>();
  #rescued = 0;
  #pruned = 0;
  #errors = 0;

  track(worker: Worker<JobSchemas>): void {
    if (this.#workers.has(worker)) return;
    this.#workers.add(worker);
    const count = (type: string, outcome: Outcome) => {
      const key = `${type}\u0000${outcome}`;
      this.#jobs.set(key, (this.#jobs.get(key) ?? 0) + 1);
    };
    worker.on("job:started", ({ job }) => count(job.type, "started"));
    worker.on("job:succeeded", ({ job, durationMs }) => {
      count(job.type, "succeeded");
      this.#durations.observe({ type: job.type, outcome: "succeeded" }, durationMs / 1000);
    });
    worker.on("job:failed", ({ job, durationMs }) => {
      count(job.type, "failed");
      this.#durations.observe({ type: job.type, outcome: "failed" }, durationMs / 1000);
    });
    worker.on("job:dead", ({ job, durationMs }) => {
      count(job.type, "dead");
      this.#durations.observe({ type: job.type, outcome: "dead" }, durationMs / 1000);
    });
    worker.on("job:snoozed", ({ job }) => count(job.type, "snoozed"));
    worker.on("job:released", ({ job }) => count(job.type, "released"));
    worker.on("job:lease-lost", ({ job }) => count(job.type, "lease_lost"));
    worker.on("jobs:rescued", ({ count: n }) => void (this.#rescued += n));
    worker.on("jobs:pruned", ({ deleted }) => void (this.#pruned += deleted));
    worker.on("worker:error", () => void this.#errors++);
  }

  families(): Family[] {
    const jobs = [...this.#jobs.entries()].map(([key, value]) => {
      const [type, outcome] = key.split("\u0000") as [string, string];
      return { labels: { type, outcome }, value };
    });
    let running = 0;
    for (const worker of this.#workers) running += worker.runningCount;
    return [
      { name: "djps_worker_jobs_total", help: "Jobs this process's workers started, and how their attempts ended, by type and outcome.", type: "counter", samples: jobs },
      { name: "djps_job_duration_seconds", help: "Handler run time by job type and outcome.", type: "histogram", samples: this.#durations.samples() },
      { name: "djps_worker_running_jobs", help: "Handlers running now in this process.", type: "gauge", samples: [{ labels: {}, value: running }] },
      { name: "djps_worker_rescued_jobs_total", help: "Jobs whose lease had passed, put back or to dead by this process's maintenance.", type: "counter", samples: [{ labels: {}, value: this.#rescued }] },
      { name: "djps_worker_pruned_jobs_total", help: "Finished jobs deleted by this process's retention.", type: "counter", samples: [{ labels: {}, value: this.#pruned }] },
      { name: "djps_worker_errors_total", help: "Errors outside handlers (database unreachable, outcome writes failed).", type: "counter", samples: [{ labels: {}, value: this.#errors }] },
    ];
  }
}
