import { beforeEach, describe, expect, it } from "vitest";
import { Metrics, PermanentJobError, ValidationError, type Queue, type Worker } from "../src/index.js";
import { render } from "../src/metrics/exposition.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";
import { nextEvent } from "./support/worker.js";

const bed = useTestBed("met", { schemaPerTest: true });
let db: TestSchema;
let queue: Queue;
let worker: Worker;
beforeEach(() => {
  ({ db, queue } = bed);
  worker = bed.worker(
    {
      ok: async () => "done",
      boom: async () => {
        throw new PermanentJobError("no");
      },
      flaky: async () => {
        throw new Error("later");
      },
    },
    { backoff: { baseMs: 3_600_000 } },
  );
});

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN|\+Inf|-Inf)$/;

/** Parses the text format strictly enough to catch malformed lines: sample key (name + labels as written) -> value. */
function parseText(text: string): Map<string, number> {
  expect(text.endsWith("\n")).toBe(true);
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    if (line.startsWith("# HELP ")) continue;
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      expect(["counter", "gauge", "histogram"]).toContain(type);
      typed.add(name!);
      continue;
    }
    const match = LINE.exec(line);
    expect(match, line).not.toBeNull();
    const name = match![1]!;
    expect(typed.has(name) || typed.has(name.replace(/_(bucket|sum|count)$/, "")), `${name} has a TYPE line`).toBe(true);
    samples.set(`${name}${match![2] ?? ""}`, Number(match![3]));
  }
  return samples;
}

describe("Metrics", () => {
  it("renders the queue gauges and the worker's counters and durations", async () => {
    const metrics = new Metrics({ queue, workers: [worker], statsCacheMs: 0 });
    const succeeded = new Promise<void>((resolve) => {
      let n = 0;
      worker.on("job:succeeded", () => ++n === 3 && resolve());
    });
    const dead = nextEvent(worker, "job:dead");
    const failed = nextEvent(worker, "job:failed");
    await worker.start();
    await queue.enqueueMany([1, 2, 3].map(() => ({ type: "ok", payload: {} })));
    await queue.enqueue("boom", {});
    await queue.enqueue("flaky", {}, { queue: "slow" });
    await Promise.all([succeeded, dead, failed]);
    // Outcomes are written in batches: wait until the table shows them.
    const samples = await waitFor(async () => {
      const parsed = parseText(await metrics.render());
      return parsed.get('djps_jobs{queue="default",status="succeeded"}') === 3 && parsed.get('djps_jobs{queue="slow",status="failed"}') === 1 ? parsed : null;
    }, "the outcomes to reach the table");

    expect(samples.get('djps_worker_jobs_total{type="ok",outcome="started"}')).toBe(3);
    expect(samples.get('djps_worker_jobs_total{type="ok",outcome="succeeded"}')).toBe(3);
    expect(samples.get('djps_worker_jobs_total{type="boom",outcome="dead"}')).toBe(1);
    expect(samples.get('djps_worker_jobs_total{type="flaky",outcome="failed"}')).toBe(1);
    expect(samples.get('djps_job_duration_seconds_count{type="ok",outcome="succeeded"}')).toBe(3);
    expect(samples.get('djps_job_duration_seconds_bucket{type="ok",outcome="succeeded",le="+Inf"}')).toBe(3);
    const buckets = [...samples.entries()].filter(([k]) => k.startsWith('djps_job_duration_seconds_bucket{type="ok",outcome="succeeded"')).map(([, v]) => v);
    expect(buckets.length).toBeGreaterThan(5);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));

    expect(samples.get('djps_jobs{queue="default",status="succeeded"}')).toBe(3);
    expect(samples.get('djps_jobs{queue="default",status="dead"}')).toBe(1);
    expect(samples.get('djps_jobs{queue="slow",status="failed"}')).toBe(1);
    expect(samples.get('djps_queue_recent_jobs{queue="default",outcome="succeeded",window="1m"}')).toBe(3);
    expect(samples.get('djps_queue_recent_jobs{queue="slow",outcome="failed",window="1h"}')).toBe(1);
    expect(samples.get('djps_queue_paused{queue="default"}')).toBe(0);
    expect(samples.get('djps_queue_lag_seconds{queue="default"}')).toBe(0);
    expect(samples.get("djps_worker_errors_total")).toBe(0);
    expect(metrics.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  it("reads stats once per cache period", async () => {
    const metrics = new Metrics({ queue, statsCacheMs: 3_600_000 });
    await queue.enqueue("ok", {});
    const first = parseText(await metrics.render());
    await queue.enqueue("ok", {});
    expect(parseText(await metrics.render())).toEqual(first);
    expect(first.get('djps_jobs{queue="default",status="queued"}')).toBe(1);
    expect(parseText(await new Metrics({ queue }).render()).get('djps_jobs{queue="default",status="queued"}')).toBe(2);
  });

  it("escapes label values and help text", () => {
    const text = render([{ name: "x", help: "a \\ b\nc", type: "gauge", samples: [{ labels: { v: 'q"\\\n' }, value: 1 }] }]);
    expect(text).toBe('# HELP x a \\\\ b\\nc\n# TYPE x gauge\nx{v="q\\"\\\\\\n"} 1\n');
  });

  it("refuses bad options", () => {
    expect(() => new Metrics({ queue: {} as never })).toThrow(ValidationError);
    expect(() => new Metrics({ queue: {} as never })).toThrow(/options\.queue/);
    expect(() => new Metrics({ workers: [queue as never] })).toThrow(/options\.workers\.0/);
    expect(() => new Metrics().track({} as never)).toThrow(/`worker`/);
  });
});
