import { describe, expect, it } from "vitest";
import { z } from "zod";
import { PermanentJobError, ValidationError, type Queue } from "../src/index.js";
import { drain, DrainLimitError, testClock } from "../src/testing/index.js";
import { useTestBed } from "./support/bed.js";
import { jobRow } from "./support/worker.js";

// drain() against a real schema: each test gets a fresh one, so a drain sees
// only the jobs its test enqueued.
const bed = useTestBed("td", { schemaPerTest: true });
const q = () => bed.queue;

describe("drain", () => {
  it("runs due jobs through their handlers with a real ctx and stores their results", async () => {
    const queue = q();
    const { job: a } = await queue.enqueue("add", { a: 1, b: 2 });
    const { job: b } = await queue.enqueue("add", { a: 3, b: 4 });
    await queue.enqueue("other", {});
    const seen: string[] = [];
    const { runs, counts } = await drain(queue, {
      add: async (payload: any, ctx) => {
        seen.push(`${ctx.job.id}:${ctx.attempt}:${ctx.signal.aborted}`);
        ctx.logger.info({}, "adding");
        ctx.progress(50);
        ctx.progress({ done: 1 });
        await ctx.heartbeat();
        return payload.a + payload.b;
      },
    });
    expect(runs.map((r) => [r.job.id, r.outcome, r.result])).toEqual([
      [a.id, "succeeded", 3],
      [b.id, "succeeded", 7],
    ]);
    expect(counts).toMatchObject({ succeeded: 2, failed: 0, dead: 0, snoozed: 0 });
    expect(seen).toEqual([`${a.id}:1:false`, `${b.id}:1:false`]);
    expect(runs[0]!.progress).toEqual([50, { done: 1 }]);
    const stored = await queue.getJob(a.id);
    expect(stored).toMatchObject({ status: "succeeded", result: 3, progress: { done: 1 }, lockedBy: null });
    // A type without a handler is left alone.
    expect((await queue.listJobs({ type: "other" })).jobs[0]!.status).toBe("queued");
  });

  it("leaves a failed job to retry later, and the clock makes the retry due", async () => {
    const queue = q();
    const clock = testClock(queue);
    const { job } = await queue.enqueue("flaky", {}, { maxAttempts: 3 });
    let calls = 0;
    const handlers = {
      flaky: {
        handler: () => {
          calls++;
          if (calls === 1) throw new Error("first try fails");
          return "ok";
        },
        backoff: { baseMs: 60_000, jitter: 0 },
      },
    };
    const first = await drain(queue, handlers);
    expect(first.runs).toHaveLength(1);
    const run = first.runs[0]!;
    expect(run.outcome).toBe("failed");
    expect(run.error?.message).toBe("first try fails");
    const failed = await jobRow(bed.db.pool, bed.db.schema, job.id);
    expect(failed.status).toBe("failed");
    expect(run.runAt).toEqual(failed.run_at);
    // Not due yet: a second drain runs nothing.
    expect((await drain(queue, handlers)).runs).toEqual([]);
    expect(await clock.advance(60_000)).toBe(1);
    const second = await drain(queue, handlers);
    expect(second.runs.map((r) => [r.outcome, r.result, r.job.attempts])).toEqual([["succeeded", "ok", 2]]);
  });

  it("reports a job that used its last attempt, or failed permanently, as dead", async () => {
    const queue = q();
    const { job: last } = await queue.enqueue("fails", { n: 1 }, { maxAttempts: 1 });
    const { job: permanent } = await queue.enqueue("permanent", {}, { maxAttempts: 5 });
    const { runs, counts } = await drain(queue, {
      fails: () => {
        throw new Error("boom");
      },
      permanent: () => {
        throw new PermanentJobError("never");
      },
    });
    expect(counts).toMatchObject({ dead: 2 });
    expect(runs.map((r) => [r.job.id, r.outcome, r.error?.message])).toEqual([
      [last.id, "dead", "boom"],
      [permanent.id, "dead", "never"],
    ]);
    expect((await queue.getJob(last.id))!.status).toBe("dead");
  });

  it("runs a job that snoozes 0 ms again in the same drain, and one snoozing later in a later one", async () => {
    const queue = q();
    const { job } = await queue.enqueue("poll", {});
    let calls = 0;
    const handlers = {
      poll: (_: unknown, ctx: { snooze(ms: number): never }) => {
        calls++;
        if (calls === 1) ctx.snooze(0);
        if (calls === 2) ctx.snooze(30_000);
        return calls;
      },
    };
    const first = await drain(queue, handlers);
    expect(first.runs.map((r) => r.outcome)).toEqual(["snoozed", "snoozed"]);
    expect(first.runs[1]!.runAt).toEqual((await jobRow(bed.db.pool, bed.db.schema, job.id)).run_at);
    await testClock(queue).advance(30_000);
    const second = await drain(queue, handlers);
    expect(second.runs.map((r) => [r.outcome, r.result])).toEqual([["succeeded", 3]]);
  });

  it("stops an endless loop after maxRuns with a DrainLimitError, and puts the last job back", async () => {
    const queue = q();
    const { job } = await queue.enqueue("spin", {});
    const error = await drain(queue, { spin: (_p, ctx) => ctx.snooze(0) }, { maxRuns: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrainLimitError);
    expect((error as DrainLimitError).code).toBe("DRAIN_LIMIT");
    expect((error as DrainLimitError).runs).toHaveLength(5);
    expect((error as Error).message).toContain("options.maxRuns");
    expect((await queue.getJob(job.id))!.status).toBe("queued");
  });

  it("kills a job whose payload its schema refuses, without running the handler", async () => {
    const queue = q();
    await queue.enqueue("typed", { to: 42 });
    let ran = false;
    const { runs } = await drain(queue, {
      typed: {
        schema: z.object({ to: z.string() }),
        handler: () => {
          ran = true;
        },
      },
    });
    expect(ran).toBe(false);
    expect(runs[0]!.outcome).toBe("dead");
    expect(runs[0]!.error?.message).toContain("payload.to");
  });

  it("fails an attempt that times out and aborts the handler's signal", async () => {
    const queue = q();
    await queue.enqueue("slow", {}, { maxAttempts: 2 });
    let reason: unknown;
    const { runs } = await drain(queue, {
      slow: {
        timeoutMs: 20,
        handler: (_p, ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => {
              reason = ctx.signal.reason;
              reject(ctx.signal.reason);
            }),
          ),
      },
    });
    expect(runs[0]!.outcome).toBe("failed");
    expect(runs[0]!.error?.name).toBe("TimeoutError");
    expect(runs[0]!.error?.message).toBe("Timed out after 20 ms");
    expect((reason as Error).name).toBe("TimeoutError");
  });

  it("takes only the queues and types asked for, and skips paused queues", async () => {
    const queue = q();
    await queue.enqueue("a", {}, { queue: "one" });
    await queue.enqueue("a", {}, { queue: "two" });
    await queue.enqueue("b", {}, { queue: "one" });
    const handlers = { a: () => "a", b: () => "b" };
    const onlyOne = await drain(queue, handlers, { queues: ["one"], types: ["a"] });
    expect(onlyOne.runs.map((r) => [r.job.queue, r.job.type])).toEqual([["one", "a"]]);
    await queue.pause("two");
    const rest = await drain(queue, handlers);
    expect(rest.runs.map((r) => [r.job.queue, r.job.type])).toEqual([["one", "b"]]);
  });

  it("validates its inputs", async () => {
    const queue = q();
    await expect(drain({} as Queue, { a: () => 1 })).rejects.toThrow(ValidationError);
    await expect(drain(queue, {})).rejects.toMatchObject({ field: "handlers" });
    await expect(drain(queue, { a: () => 1 }, { types: ["b"] })).rejects.toMatchObject({ field: "options.types" });
    await expect(drain(queue, { a: () => 1 }, { maxRuns: 0 })).rejects.toMatchObject({ field: "options.maxRuns" });
    await expect(drain(queue, { a: () => 1 }, { bogus: 1 } as never)).rejects.toMatchObject({ field: "options.bogus" });
  });
});
