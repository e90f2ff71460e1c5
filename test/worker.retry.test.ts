import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  DEFAULT_BACKOFF,
  ERROR_HISTORY_LIMIT,
  PermanentJobError,
  retryDelayMs,
  SnoozeJob,
  type BackoffOptions,
  type Handlers,
  type Queue,
  type Worker,
  type WorkerOptions,
} from "../src/index.js";
import { drain, testClock } from "../src/testing/index.js";
import { waitFor, type TestSchema } from "./support/db.js";
import { useTestBed } from "./support/bed.js";
import { collect, jobRow, nextEvent } from "./support/worker.js";

// Failure paths of one attempt: retries with backoff (checked as run_at
// arithmetic in SQL, never against the clock), dead after the last attempt,
// permanent failures, snoozes, timeouts, payload validation, bad results.

/**
 * Workers poll fast because retries made due by SQL send no notification;
 * retries are far out unless a test says otherwise, so a row is not claimed
 * again while the test reads it.
 */
const bed = useTestBed("wr", { worker: { pollIntervalMs: 50, backoff: { baseMs: 600_000 } } });
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

/** Starts a worker on the test schema, with the bed's defaults under `options`. */
async function startWorker(handlers: Handlers, options: WorkerOptions = {}): Promise<Worker> {
  const worker = bed.worker(handlers, options);
  await worker.start();
  return worker;
}

/** Makes a failed job due now (the claim picks it up at the next poll). */
async function makeDue(id: string): Promise<void> {
  await db.pool.query(`UPDATE "${db.schema}".jobs SET run_at = now() WHERE id = $1`, [id]);
}

/** The bounds retryDelayMs keeps to: [capped * (1 - jitter), capped]. */
function delayBounds(attempt: number, backoff: Required<BackoffOptions>): [number, number] {
  const capped = Math.min(backoff.maxMs, backoff.baseMs * backoff.factor ** (attempt - 1));
  return [Math.floor(capped * (1 - backoff.jitter)), capped];
}

describe("retryDelayMs", () => {
  const backoff = { baseMs: 100, factor: 3, maxMs: 5000, jitter: 0.5 };

  it("grows by the factor per attempt, from baseMs, with no jitter taken when random is 0", () => {
    const delays = [1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, backoff, () => 0));
    expect(delays).toEqual([100, 300, 900, 2700]);
  });

  it("takes off up to `jitter` of the delay when random is 1", () => {
    const delays = [1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, backoff, () => 1));
    expect(delays).toEqual([50, 150, 450, 1350]);
  });

  it("is capped at maxMs, and jitter applies to the capped delay", () => {
    expect(retryDelayMs(5, backoff, () => 0)).toBe(5000); // 8100 uncapped
    expect(retryDelayMs(5, backoff, () => 1)).toBe(2500);
    expect(retryDelayMs(1000, backoff, () => 0)).toBe(5000); // factor^999 is Infinity
    expect(retryDelayMs(1000, { ...DEFAULT_BACKOFF }, () => 0)).toBe(DEFAULT_BACKOFF.maxMs);
  });

  it("stays within its bounds for any random value", () => {
    for (const random of [0, 0.1, 0.5, 0.9, 0.999, 1]) {
      for (const attempt of [1, 2, 5, 9]) {
        const [low, high] = delayBounds(attempt, backoff);
        const delay = retryDelayMs(attempt, backoff, () => random);
        expect(delay).toBeGreaterThanOrEqual(low);
        expect(delay).toBeLessThanOrEqual(high);
      }
    }
  });

  it("is baseMs with jitter 0 and factor 1, and 0 with baseMs 0", () => {
    expect(retryDelayMs(7, { baseMs: 250, factor: 1, maxMs: 10_000, jitter: 0 })).toBe(250);
    expect(retryDelayMs(3, { baseMs: 0, factor: 2, maxMs: 10_000, jitter: 0.5 })).toBe(0);
  });
});

describe("a throwing handler", () => {
  it("fails with the error recorded and run_at moved out by the backoff, then dies after maxAttempts", async () => {
    const backoff = { baseMs: 60_000, factor: 2, maxMs: 3_600_000, jitter: 0.5 };
    let calls = 0;
    const worker = await startWorker(
      { flaky: async () => { calls++; throw new Error(`boom ${calls}`); } },
      { backoff },
    );
    const failed = collect(worker, "job:failed");
    const firstFailure = nextEvent(worker, "job:failed");
    const { job } = await queue.enqueue("flaky", { n: 1 }, { maxAttempts: 3 });
    const event1 = await firstFailure;

    let row = await jobRow(db.pool, db.schema, job.id);
    expect(row.status).toBe("failed");
    expect(row.attempts).toBe(1);
    expect(row.last_error).toBe("boom 1");
    expect(row.locked_until).toBeNull();
    expect(row.finished_at).toBeNull();
    expect(row.errors).toHaveLength(1);
    expect(row.errors[0]).toMatchObject({ attempt: 1, message: "boom 1" });
    expect(row.errors[0].stack).toContain("boom 1");
    expect(Number.isNaN(Date.parse(row.errors[0].at))).toBe(false);
    let [low, high] = delayBounds(1, backoff);
    expect(row.delay_ms).toBeGreaterThanOrEqual(low);
    expect(row.delay_ms).toBeLessThanOrEqual(high);
    expect(event1.job.id).toBe(job.id);
    expect(event1.error.message).toBe("boom 1");
    expect(event1.retryAt.getTime()).toBe(row.run_at.getTime());

    // Second attempt: the delay doubles.
    const secondFailure = nextEvent(worker, "job:failed", (e) => e.job.attempts === 2);
    await makeDue(job.id);
    const event2 = await secondFailure;
    row = await jobRow(db.pool, db.schema, job.id);
    expect(row.attempts).toBe(2);
    expect(row.last_error).toBe("boom 2");
    [low, high] = delayBounds(2, backoff);
    expect(row.delay_ms).toBeGreaterThanOrEqual(low);
    expect(row.delay_ms).toBeLessThanOrEqual(high);
    expect(event2.retryAt.getTime()).toBe(row.run_at.getTime());

    // Third and last attempt: dead.
    const dead = nextEvent(worker, "job:dead");
    await makeDue(job.id);
    const deadEvent = await dead;
    row = await jobRow(db.pool, db.schema, job.id);
    expect(row.status).toBe("dead");
    expect(row.attempts).toBe(3);
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.locked_until).toBeNull();
    expect(row.last_error).toBe("boom 3");
    expect(row.errors.map((e: any) => [e.attempt, e.message])).toEqual([[1, "boom 1"], [2, "boom 2"], [3, "boom 3"]]);
    expect(deadEvent.job.id).toBe(job.id);
    expect(deadEvent.error.message).toBe("boom 3");
    expect(failed).toHaveLength(2);
    expect(calls).toBe(3);
  });

  it("uses a job type's own backoff over the worker's", async () => {
    const worker = await startWorker(
      {
        own: { handler: async () => { throw new Error("own"); }, backoff: { baseMs: 5_000, jitter: 0 } },
        inherited: async () => { throw new Error("inherited"); },
      },
      { backoff: { baseMs: 90_000, factor: 2, jitter: 0 } },
    );
    const ownFailed = nextEvent(worker, "job:failed", (e) => e.job.type === "own");
    const inheritedFailed = nextEvent(worker, "job:failed", (e) => e.job.type === "inherited");
    const own = (await queue.enqueue("own", null)).job;
    const inherited = (await queue.enqueue("inherited", null)).job;
    await Promise.all([ownFailed, inheritedFailed]);
    expect((await jobRow(db.pool, db.schema, own.id)).delay_ms).toBe(5_000);
    expect((await jobRow(db.pool, db.schema, inherited.id)).delay_ms).toBe(90_000);

    // The type's backoff keeps the worker's other settings (factor 2 here).
    const again = nextEvent(worker, "job:failed", (e) => e.job.id === own.id && e.job.attempts === 2);
    await makeDue(own.id);
    await again;
    expect((await jobRow(db.pool, db.schema, own.id)).delay_ms).toBe(10_000);
  });

  it(`keeps the newest ${ERROR_HISTORY_LIMIT} entries of error history`, async () => {
    const worker = await startWorker(
      { always: async (_p, ctx) => { throw new Error(`failure ${ctx.attempt}`); } },
      { backoff: { baseMs: 0, jitter: 0 } },
    );
    const dead = nextEvent(worker, "job:dead", () => true, 20_000);
    const { job } = await queue.enqueue("always", null, { maxAttempts: 15 });
    await dead;
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row.status).toBe("dead");
    expect(row.attempts).toBe(15);
    expect(row.last_error).toBe("failure 15");
    expect(row.errors).toHaveLength(ERROR_HISTORY_LIMIT);
    expect(row.errors.map((e: any) => e.attempt)).toEqual(Array.from({ length: ERROR_HISTORY_LIMIT }, (_, i) => 15 - ERROR_HISTORY_LIMIT + 1 + i));
    expect(row.errors.at(-1).message).toBe("failure 15");
  });

  it("caps a huge stack and keeps a message-less error named", async () => {
    const worker = await startWorker({
      huge: async () => {
        const error = new Error("");
        error.name = "EmptyError";
        error.stack = "x".repeat(100_000);
        throw error;
      },
    });
    const failed = nextEvent(worker, "job:failed");
    const { job } = await queue.enqueue("huge", null);
    await failed;
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row.last_error).toBe("EmptyError");
    expect(row.errors[0].stack.length).toBeLessThanOrEqual(4000);
  });

  it("records a thrown non-error value readably", async () => {
    const worker = await startWorker({ odd: async () => { throw { code: 42 }; } });
    const failed = nextEvent(worker, "job:failed");
    const { job } = await queue.enqueue("odd", null);
    await failed;
    expect((await jobRow(db.pool, db.schema, job.id)).last_error).toBe('Non-error thrown: {"code":42}');
  });
});

describe("permanent failure", () => {
  it("sends the job to dead at once, even with attempts left", async () => {
    const worker = await startWorker({ doomed: async () => { throw new PermanentJobError("account deleted"); } });
    const dead = nextEvent(worker, "job:dead");
    const failed = collect(worker, "job:failed");
    const { job } = await queue.enqueue("doomed", null, { maxAttempts: 5 });
    const event = await dead;
    expect(event.error).toBeInstanceOf(PermanentJobError);
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row).toMatchObject({ status: "dead", attempts: 1, max_attempts: 5, last_error: "account deleted" });
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.errors).toHaveLength(1);
    expect(failed).toHaveLength(0);
  });
});

describe("snooze", () => {
  for (const how of ["ctx.snooze()", "throw new SnoozeJob()"] as const) {
    it(`${how} puts the job back to queued later without spending an attempt`, async () => {
      const worker = await startWorker({
        later: async (_p, ctx) => {
          if (how === "ctx.snooze()") ctx.snooze(120_000);
          throw new SnoozeJob(120_000);
        },
      });
      const snoozed = nextEvent(worker, "job:snoozed");
      const { job } = await queue.enqueue("later", null, { maxAttempts: 3 });
      const event = await snoozed;
      const row = await jobRow(db.pool, db.schema, job.id);
      expect(row).toMatchObject({ status: "queued", attempts: 1, max_attempts: 4, last_error: null, locked_until: null });
      expect(row.errors).toEqual([]);
      expect(row.delay_ms).toBe(120_000);
      expect(event.job.id).toBe(job.id);
      expect(event.runAt.getTime()).toBe(row.run_at.getTime());
    });
  }

  it("a snoozed job runs again when due and can still use all of its attempts", async () => {
    let calls = 0;
    const worker = await startWorker(
      {
        once: async (_p, ctx) => {
          calls++;
          if (calls === 1) ctx.snooze(0);
          throw new Error(`real failure ${ctx.attempt}`);
        },
      },
      { backoff: { baseMs: 0, jitter: 0 } },
    );
    const dead = nextEvent(worker, "job:dead");
    const { job } = await queue.enqueue("once", null, { maxAttempts: 2 });
    await dead;
    const row = await jobRow(db.pool, db.schema, job.id);
    // One snooze, then two real failures: the snooze did not use up one of the two attempts.
    expect(calls).toBe(3);
    expect(row).toMatchObject({ status: "dead", attempts: 3, max_attempts: 3 });
    expect(row.errors.map((e: any) => e.message)).toEqual(["real failure 2", "real failure 3"]);
  });
});

describe("backoff after snoozes", () => {
  it("counts failures, not snoozes: the first failure after five snoozes waits the first delay", async () => {
    let calls = 0;
    const worker = await startWorker(
      {
        patient: async (_p, ctx) => {
          calls++;
          if (calls <= 5) ctx.snooze(0);
          throw new Error(`failure after ${calls - 1} snoozes`);
        },
      },
      { backoff: { baseMs: 10_000, factor: 2, jitter: 0 } },
    );
    const failed = nextEvent(worker, "job:failed");
    const { job } = await queue.enqueue("patient", null, { maxAttempts: 3 });
    await failed;
    let row = await jobRow(db.pool, db.schema, job.id);
    expect(row).toMatchObject({ status: "failed", attempts: 6, max_attempts: 8 });
    expect(row.delay_ms).toBe(10_000);

    // The second failure doubles it. The clock makes the retry due without a wait.
    const again = nextEvent(worker, "job:failed");
    expect(await testClock(queue).advance(10_000)).toBeGreaterThanOrEqual(1);
    await again;
    row = await jobRow(db.pool, db.schema, job.id);
    expect(row.attempts).toBe(7);
    expect(row.delay_ms).toBe(20_000);
  });
});

describe("timeouts", () => {
  /** A handler that waits for its signal and reports the abort reason. */
  const waitsForAbort = (reasons: unknown[]) => async (_p: unknown, ctx: { signal: AbortSignal }) => {
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    reasons.push(ctx.signal.reason);
    return "too late";
  };

  it("a per-type timeoutMs aborts the signal with a TimeoutError and fails the attempt", async () => {
    const reasons: unknown[] = [];
    const worker = await startWorker({ slow: { handler: waitsForAbort(reasons), timeoutMs: 200 } });
    const failed = nextEvent(worker, "job:failed");
    const { job } = await queue.enqueue("slow", null);
    const event = await failed;
    expect(event.error.name).toBe("TimeoutError");
    expect(event.error.message).toBe("Timed out after 200 ms");
    await waitFor(() => reasons.length === 1, "the handler to see its signal aborted");
    expect((reasons[0] as Error).name).toBe("TimeoutError");
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row).toMatchObject({ status: "failed", attempts: 1, last_error: "Timed out after 200 ms", result: null });
  });

  it("a per-job timeoutMs wins over the type's and the worker's", async () => {
    const reasons: unknown[] = [];
    const worker = await startWorker({ slow2: { handler: waitsForAbort(reasons), timeoutMs: 600_000 } }, { timeoutMs: 600_000 });
    const failed = nextEvent(worker, "job:failed");
    const { job } = await queue.enqueue("slow2", null, { timeoutMs: 150 });
    await failed;
    await waitFor(() => reasons.length === 1, "the handler to see its signal aborted");
    expect((reasons[0] as Error).name).toBe("TimeoutError");
    expect((await jobRow(db.pool, db.schema, job.id)).last_error).toBe("Timed out after 150 ms");
  });

  it("the worker's timeoutMs applies to types without their own", async () => {
    const reasons: unknown[] = [];
    const worker = await startWorker({ slow3: waitsForAbort(reasons) }, { timeoutMs: 100 });
    const failed = nextEvent(worker, "job:failed");
    const { job } = await queue.enqueue("slow3", null);
    await failed;
    expect((await jobRow(db.pool, db.schema, job.id)).last_error).toBe("Timed out after 100 ms");
  });

  it("a timed-out job whose attempts are used up is dead", async () => {
    const worker = await startWorker({ slow4: { handler: () => new Promise(() => {}), timeoutMs: 50 } });
    const dead = nextEvent(worker, "job:dead");
    const { job } = await queue.enqueue("slow4", null, { maxAttempts: 1 });
    const event = await dead;
    expect(event.error.name).toBe("TimeoutError");
    expect((await jobRow(db.pool, db.schema, job.id))).toMatchObject({ status: "dead", last_error: "Timed out after 50 ms" });
  });
});

describe("payload validation", () => {
  it("kills a job whose payload fails the worker's `schemas` at its first attempt, naming the field", async () => {
    const seen: unknown[] = [];
    const worker = await startWorker(
      { signup: async (p: unknown) => { seen.push(p); return "ok"; } },
      { schemas: { signup: z.object({ email: z.string().email(), age: z.coerce.number() }) } },
    );
    const dead = nextEvent(worker, "job:dead");
    const { job } = await queue.enqueue("signup", { email: 42, age: 3 }, { maxAttempts: 5 });
    const event = await dead;
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row).toMatchObject({ status: "dead", attempts: 1 });
    // The same message the Queue gives when its own schema refuses a payload.
    expect(row.last_error).toMatch(/^Expected `payload\.email` to match the schema of job type `signup` \(.+\), got `42` \(number\)$/);
    expect(event.error.message).toBe(row.last_error);
    expect(seen).toEqual([]);

    // A valid payload reaches the handler parsed (coerced) by the schema.
    const succeeded = nextEvent(worker, "job:succeeded");
    const ok = (await queue.enqueue("signup", { email: "a@b.com", age: "31" })).job;
    await succeeded;
    expect((await jobRow(db.pool, db.schema, ok.id)).status).toBe("succeeded");
    expect(seen).toEqual([{ email: "a@b.com", age: 31 }]);
  });

  it("uses a handler spec's `schema`, over the worker's", async () => {
    const worker = await startWorker(
      { order: { handler: async () => "ok", schema: z.object({ items: z.array(z.object({ sku: z.string() })).min(1) }) } },
      { schemas: { order: z.any() } },
    );
    const dead = nextEvent(worker, "job:dead");
    const { job } = await queue.enqueue("order", { items: [{ sku: 7 }] });
    await dead;
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row).toMatchObject({ status: "dead", attempts: 1 });
    expect(row.last_error).toContain("Expected `payload.items.0.sku` to match the schema of job type `order`");
  });
});

describe("results", () => {
  it("kills a job whose result is not JSON (a BigInt) with a clear message", async () => {
    const worker = await startWorker({ big: async () => ({ total: 10n }) });
    const dead = nextEvent(worker, "job:dead");
    const { job } = await queue.enqueue("big", null, { maxAttempts: 5 });
    await dead;
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row).toMatchObject({ status: "dead", attempts: 1, result: null });
    expect(row.last_error).toContain("result cannot be stored");
    expect(row.last_error).toContain("JSON");
    expect(row.last_error).toContain("10n");
  });

  it("kills a job whose result is larger than 1 MiB of JSON, saying how large", async () => {
    const worker = await startWorker({ bulky: async () => "x".repeat(2 * 1024 * 1024) });
    const dead = nextEvent(worker, "job:dead");
    const { job } = await queue.enqueue("bulky", null, { maxAttempts: 5 });
    await dead;
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row).toMatchObject({ status: "dead", attempts: 1, result: null });
    expect(row.last_error).toContain("result cannot be stored");
    expect(row.last_error).toContain("at most 1048576 bytes");
  });

  it("stores undefined as null and any JSON value as is", async () => {
    // The results go through the Worker's own execute() and completion writer; drain runs them without waiting.
    const ids = [
      (await queue.enqueue("nothing", null)).job.id,
      (await queue.enqueue("text", null)).job.id,
      (await queue.enqueue("list", null)).job.id,
    ];
    const { runs } = await drain(queue, { nothing: async () => undefined, text: async () => "done", list: async () => [1, { a: null }] });
    expect(runs.map((r) => [r.job.id, r.outcome, r.result])).toEqual([
      [ids[0], "succeeded", null],
      [ids[1], "succeeded", "done"],
      [ids[2], "succeeded", [1, { a: null }]],
    ]);
    const results = await Promise.all(ids.map(async (id) => (await jobRow(db.pool, db.schema, id)).result));
    expect(results).toEqual([null, "done", [1, { a: null }]]);
  });
});
