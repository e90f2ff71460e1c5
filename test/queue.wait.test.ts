import { afterEach, describe, expect, it } from "vitest";
import { JobFailedError, JobNotFoundError, Queue, ValidationError, WaitTimeoutError } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor } from "./support/db.js";
import { createExecutionsTable, killAllChildren, spawnWorker } from "./support/processes.js";
import { gate, nextEvent } from "./support/worker.js";

// queue.waitFor(): the finished job, or why it did not finish, across
// processes and through a dropped connection.

const bed = useTestBed("wait", { schemaPerTest: true, worker: { pollIntervalMs: 50 } });
afterEach(() => killAllChildren());

/** LISTEN connections of Queues (not workers) on this test's schema. */
async function queueListeners(): Promise<number[]> {
  const { rows } = await bed.db.pool.query(
    `SELECT pid FROM pg_stat_activity WHERE application_name = 'djps queue' AND query LIKE 'LISTEN%' AND query LIKE $1`,
    [`%${bed.db.schema}%`],
  );
  return rows.map((r) => r.pid as number);
}

describe("queue.waitFor()", () => {
  it("resolves with the succeeded job and its result, and settles at once for a job already finished", async () => {
    const worker = bed.worker({ double: async (p) => (p as number) * 2 });
    const { job } = await bed.queue.enqueue("double", 21);
    const waiting = bed.queue.waitFor(job.id);
    await worker.start();
    expect(await waiting).toMatchObject({ id: job.id, status: "succeeded", result: 42 });
    expect(await bed.queue.waitFor(job.id)).toMatchObject({ status: "succeeded", result: 42 });
    // No wait pending: the Queue let its LISTEN connection go.
    await waitFor(async () => (await queueListeners()).length === 0, "the Queue's LISTEN connection to be released");
  });

  it("enqueueAndWait enqueues and waits in one call", async () => {
    await bed.worker({ hello: async (p) => `hello ${p as string}` }).start();
    const done = await bed.queue.enqueueAndWait("hello", "world", {}, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ status: "succeeded", result: "hello world" });
  });

  it("rejects with a JobFailedError carrying the job and its errors when it ends dead or canceled", async () => {
    await bed.worker({ boom: async () => { throw new Error("kaput"); } }).start();
    const { job } = await bed.queue.enqueue("boom", null, { maxAttempts: 1 });
    const error = await bed.queue.waitFor(job.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).job).toMatchObject({ id: job.id, status: "dead", lastError: "kaput" });
    expect((error as JobFailedError).job.errors.map((e) => e.message)).toEqual(["kaput"]);
    expect((error as Error).message).toBe(`Job \`${job.id}\` is dead: kaput`);

    const { job: later } = await bed.queue.enqueue("nobody-works-this", null, { delayMs: 60_000 });
    const waiting = bed.queue.waitFor(later.id).catch((e: unknown) => e);
    await bed.queue.cancel(later.id);
    const canceled = await waiting;
    expect(canceled).toBeInstanceOf(JobFailedError);
    expect((canceled as JobFailedError).job.status).toBe("canceled");
  });

  it("gives up after timeoutMs or when its signal aborts, and refuses bad input", async () => {
    const { job } = await bed.queue.enqueue("nobody-works-this", null);
    const timedOut = await bed.queue.waitFor(job.id, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(WaitTimeoutError);
    expect((timedOut as Error).message).toBe(`Job \`${job.id}\` did not finish within 50 ms (it is \`queued\`)`);
    const controller = new AbortController();
    const aborted = bed.queue.waitFor(job.id, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error("no longer needed"));
    expect(await aborted).toMatchObject({ message: "no longer needed" });

    await expect(bed.queue.waitFor("0190d0c0-0000-7000-8000-000000000000")).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(bed.queue.waitFor("nope")).rejects.toBeInstanceOf(ValidationError);
    await expect(bed.queue.waitFor(job.id, { timeoutMs: 0 })).rejects.toThrow(/options\.timeoutMs/);
    await expect(bed.queue.waitFor(job.id, { signal: "x" as never })).rejects.toThrow(/options\.signal/);
  });

  it("reports progress through onProgress while it waits", async () => {
    const step = gate();
    const seen: unknown[] = [];
    const worker = bed.worker({
      steps: async (_p, ctx) => {
        ctx.progress(25);
        await step.promise;
        ctx.progress(100);
        return "done";
      },
    });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await bed.queue.enqueue("steps", null);
    await started;
    const waiting = bed.queue.waitFor(job.id, { onProgress: (p) => void seen.push(p) });
    await waitFor(() => seen.includes(25), "the first progress to be reported");
    step.open();
    expect((await waiting).result).toBe("done");
    expect(seen).toEqual([25, 100]);
  });

  it("many waits share one LISTEN connection; a job worked by another process settles them all", async () => {
    await createExecutionsTable(bed.db.pool, bed.db.schema);
    const jobs = await bed.queue.enqueueMany([1, 2, 3].map((i) => ({ type: "work", payload: i })));
    const waits = jobs.flatMap(({ job }) => [bed.queue.waitFor(job.id), bed.queue.waitFor(job.id)]);
    await waitFor(async () => (await queueListeners()).length === 1, "one LISTEN connection for all the waits");
    await spawnWorker({ url: bed.db.url, schema: bed.db.schema, workerId: "child", concurrency: 3 });
    const done = await Promise.all(waits);
    expect(done.map((j) => j.status)).toEqual(Array(6).fill("succeeded"));
    await waitFor(async () => (await queueListeners()).length === 0, "the LISTEN connection to go with the last wait");
  });

  it("still settles when its connection is killed mid-wait and the job finishes meanwhile", async () => {
    const release = gate();
    const worker = bed.worker({ slow: async () => release.promise.then(() => "finished") });
    await worker.start();
    const started = nextEvent(worker, "job:started");
    const { job } = await bed.queue.enqueue("slow", null);
    await started;
    const waiting = bed.queue.waitFor(job.id);
    const [pid] = await waitFor(async () => {
      const pids = await queueListeners();
      return pids.length === 1 ? pids : undefined;
    }, "the Queue to listen");
    // Kill the LISTEN connection, then let the job finish before it is back.
    await bed.db.pool.query("SELECT pg_terminate_backend($1)", [pid]);
    release.open();
    await waitFor(async () => (await bed.queue.getJob(job.id))?.status === "succeeded", "the job to succeed");
    expect(await waiting).toMatchObject({ status: "succeeded", result: "finished" });
  });

  it("close() ends pending waits with a ConfigError", async () => {
    const own = new Queue({ connectionString: bed.db.url, schema: bed.db.schema });
    const { job } = await own.enqueue("nobody-works-this", null);
    const waiting = own.waitFor(job.id).catch((e: unknown) => e);
    await waitFor(async () => (await queueListeners()).length === 1, "the Queue to listen");
    await own.close();
    expect(await waiting).toMatchObject({ name: "ConfigError", message: "This Queue was closed while waiting for the job" });
  });
});
