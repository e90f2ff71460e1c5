import { beforeAll, describe, expect, it } from "vitest";
import { DatabaseError, SnoozeJob, type Handlers, type Queue, type Worker } from "../src/index.js";
import type { Job } from "../src/types.js";
import { Batcher, type Outcome } from "../src/worker/completer.js";
import { MAX_ERROR_TEXT } from "../src/worker/executor.js";
import { waitFor, type TestSchema } from "./support/db.js";
import { useTestBed } from "./support/bed.js";
import { collect, jobRow, nextEvent } from "./support/worker.js";

// Outcomes a handler can produce that PostgreSQL would refuse as given: they
// must be recorded (cleaned up, or as a clear failure) and must never hold up
// the outcomes of other jobs written in the same batch.

const bed = useTestBed("wo", { worker: { concurrency: 20, pollIntervalMs: 50, backoff: { baseMs: 600_000 } } });
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

async function startWorker(handlers: Handlers): Promise<Worker> {
  const worker = bed.worker(handlers);
  await worker.start();
  return worker;
}

async function waitForStatuses(ids: string[], status: string): Promise<void> {
  await waitFor(async () => {
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE id = ANY($1) AND status = $2`, [ids, status]);
    return rows[0].n === ids.length;
  }, `${ids.length} jobs to be ${status}`);
}

describe("error text", () => {
  it("stores a message and stack with NUL characters, and other failures written with it are not held up", async () => {
    const worker = await startWorker({
      nul: async () => {
        const error = new Error("bad\u0000byte");
        error.stack = "Error: bad\u0000byte\n    at somewhere";
        throw error;
      },
      plain: async (p) => { throw new Error(`plain ${(p as { n: number }).n}`); },
    });
    const errors = collect(worker, "worker:error");
    const nul = (await queue.enqueue("nul", null)).job.id;
    const plain = (await queue.enqueueMany(Array.from({ length: 30 }, (_, n) => ({ type: "plain", payload: { n } })))).map((r) => r.job.id);
    await waitForStatuses([nul, ...plain], "failed");
    const row = await jobRow(db.pool, db.schema, nul);
    expect(row.last_error).toBe("bad\uFFFDbyte");
    expect(row.errors[0].stack).toContain("bad\uFFFDbyte");
    expect(errors).toEqual([]);
  });

  it(`caps a long message at ${MAX_ERROR_TEXT} characters, in last_error and in the history`, async () => {
    const worker = await startWorker({ long: async () => { throw new Error("m".repeat(1_000_000)); } });
    const failed = nextEvent(worker, "job:failed");
    const { job } = await queue.enqueue("long", null);
    const event = await failed;
    const row = await jobRow(db.pool, db.schema, job.id);
    expect(row.last_error.length).toBe(MAX_ERROR_TEXT);
    expect(row.last_error.startsWith("mmm")).toBe(true);
    expect(row.errors[0].message).toBe(row.last_error);
    // The event carries the error as thrown.
    expect(event.error.message.length).toBe(1_000_000);
  });
});

describe("results", () => {
  it("a result JSON would store as {} (a Map) kills the job with the reason; a class instance is stored by its fields", async () => {
    class Totals {
      constructor(readonly sent: number) {}
    }
    await startWorker({
      mapped: async () => ({ counts: new Map([["a", 1]]) }),
      classy: async () => new Totals(3),
    });
    const mapped = (await queue.enqueue("mapped", null)).job.id;
    const classy = (await queue.enqueue("classy", null)).job.id;
    await waitForStatuses([mapped], "dead");
    await waitForStatuses([classy], "succeeded");
    expect((await jobRow(db.pool, db.schema, mapped)).last_error).toBe(
      "The handler's result cannot be stored: Expected `result.counts` to be JSON, got a Map, which JSON would store as `{}` (convert it first, e.g. `Object.fromEntries(map)`)",
    );
    expect((await jobRow(db.pool, db.schema, classy)).result).toEqual({ sent: 3 });
  });
});

describe("results", () => {
  it("stores results with the characters an array literal quotes, side by side with null results in one batch", async () => {
    const awkward = [
      'a "quoted" word',
      "back\\slash \\\" and \\n",
      "{braces}, commas, NULL",
      "NULL",
      "",
      " spaces ",
      "emoji \u{1F600} and ünïcödé",
    ];
    await startWorker({
      text: async (payload) => ({ text: awkward[payload as number], list: awkward }),
      bare: async (payload) => awkward[payload as number],
      none: async () => undefined,
    });
    const jobs = await queue.enqueueMany([
      ...awkward.map((_, i) => ({ type: "text", payload: i })),
      ...awkward.map((_, i) => ({ type: "bare", payload: i })),
      ...awkward.map(() => ({ type: "none", payload: null })),
    ]);
    const ids = jobs.map((j) => j.job.id);
    await waitForStatuses(ids, "succeeded");
    for (const [n, { job }] of jobs.entries()) {
      const row = await jobRow(db.pool, db.schema, job.id);
      const i = n % awkward.length;
      if (job.type === "text") expect(row.result).toEqual({ text: awkward[i], list: awkward });
      else if (job.type === "bare") expect(row.result).toBe(awkward[i]);
      else expect(row.result).toBeNull();
    }
  });
});

describe("snooze delays", () => {
  const bad: Array<[string, unknown, string]> = [
    ["NaN", NaN, "`NaN` (number)"],
    ["Infinity", Infinity, "`Infinity` (number)"],
    ["negative", -1000, "`-1000` (number)"],
    ["a string", "5000", '`"5000"` (string)'],
  ];

  it("a snooze with a delay that is not a number of ms fails the attempt, naming the value", async () => {
    const worker = await startWorker({
      snoozer: async (payload, ctx) => {
        const p = payload as { i: number };
        const delay = bad[p.i]![1];
        if (p.i % 2 === 0) ctx.snooze(delay as number);
        throw new SnoozeJob(delay as number);
      },
      fine: async (_p, ctx) => ctx.snooze(60_000),
    });
    const errors = collect(worker, "worker:error");
    const ids = (await queue.enqueueMany(bad.map((_, i) => ({ type: "snoozer", payload: { i } })))).map((r) => r.job.id);
    const fine = (await queue.enqueueMany(Array.from({ length: 10 }, () => ({ type: "fine", payload: null })))).map((r) => r.job.id);
    await waitForStatuses(ids, "failed");
    await waitForStatuses(fine, "queued");
    for (const [i, id] of ids.entries()) {
      const row = await jobRow(db.pool, db.schema, id);
      expect(row.last_error).toContain("Expected the snooze delay to be a number of milliseconds");
      expect(row.last_error).toContain(bad[i]![2]);
      expect(row.max_attempts).toBe(3);
    }
    for (const id of fine) expect(await jobRow(db.pool, db.schema, id)).toMatchObject({ attempts: 1, max_attempts: 4, delay_ms: 60_000 });
    expect(errors).toEqual([]);
  });

  it("a fractional delay is rounded", async () => {
    const worker = await startWorker({ frac: async (_p, ctx) => ctx.snooze(1500.4) });
    const snoozed = nextEvent(worker, "job:snoozed");
    const { job } = await queue.enqueue("frac", null);
    await snoozed;
    expect((await jobRow(db.pool, db.schema, job.id)).delay_ms).toBe(1500);
  });
});

describe("Batcher", () => {
  const job = (id: string) => ({ id, attempts: 1 }) as Job;
  const dataError = () => new DatabaseError('invalid byte sequence for encoding "UTF8": 0x00', "22021");

  it("splits a batch refused for bad data and rejects only the bad item", async () => {
    const writes: string[][] = [];
    const errors: Error[] = [];
    const batcher = new Batcher<string>(
      {
        async write(batch) {
          writes.push(batch.map((b) => b.job.id));
          if (batch.some((b) => b.data === "bad")) throw dataError();
          return new Map(batch.map((b) => [b.job.id, { kind: "succeeded" } as Outcome]));
        },
      },
      (error) => errors.push(error),
    );
    // The first push is written alone at once; the rest queue up behind it and go together.
    const first = batcher.push(job("a"), "ok");
    const rest = ["b", "c", "d", "e"].map((id) => batcher.push(job(id), id === "c" ? "bad" : "ok"));
    const settled = await Promise.allSettled([first, ...rest]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect(writes).toEqual([["a"], ["b", "c", "d", "e"], ["b"], ["c"], ["d"], ["e"]]);
    expect(errors).toHaveLength(2);
    // Later pushes are batched again.
    const later = ["f", "g", "h"].map((id) => batcher.push(job(id), "ok"));
    await Promise.all(later);
    expect(writes.slice(6)).toEqual([["f"], ["g", "h"]]);
  });

  it("still retries a batch that failed for another reason (a dropped connection)", async () => {
    let calls = 0;
    const batcher = new Batcher<string>(
      {
        async write(batch, retried) {
          calls++;
          if (calls === 1) throw new DatabaseError("Connection terminated unexpectedly", undefined);
          expect(retried).toBe(true);
          return new Map(batch.map((b) => [b.job.id, { kind: "succeeded" } as Outcome]));
        },
      },
      () => {},
    );
    await expect(batcher.push(job("x"), "ok")).resolves.toEqual({ kind: "succeeded" });
    expect(calls).toBe(2);
  });
});
