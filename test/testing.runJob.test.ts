import { describe, expect, it } from "vitest";
import { InvalidStateError, JobNotFoundError, type Queue } from "../src/index.js";
import { runJob } from "../src/testing/index.js";
import { useTestBed } from "./support/bed.js";

const bed = useTestBed("trj");
const q = (): Queue => bed.queue;

describe("runJob", () => {
  it("runs one job by id now, even one not due yet, and leaves the others", async () => {
    const queue = q();
    const { job } = await queue.enqueue("resize", { src: "a.png" }, { delayMs: 3_600_000 });
    const { job: other } = await queue.enqueue("resize", { src: "b.png" });
    const run = await runJob(queue, job.id, async (payload: any, ctx) => {
      expect(ctx.job.id).toBe(job.id);
      expect(ctx.job.status).toBe("running");
      return { done: payload.src };
    });
    expect(run).toMatchObject({ outcome: "succeeded", result: { done: "a.png" } });
    expect(run.job.attempts).toBe(1);
    expect((await queue.getJob(job.id))!.status).toBe("succeeded");
    expect((await queue.getJob(other.id))!.status).toBe("queued");
  });

  it("takes an object of handlers by type, or a spec, and writes failures with backoff", async () => {
    const queue = q();
    const { job } = await queue.enqueue("charge", { amount: 5 }, { maxAttempts: 3 });
    const run = await runJob(queue, job.id, {
      charge: {
        handler: () => {
          throw new Error("card declined");
        },
        backoff: { baseMs: 10_000, jitter: 0 },
      },
    });
    expect(run.outcome).toBe("failed");
    expect(run.error!.message).toBe("card declined");
    const stored = (await queue.getJob(job.id))!;
    expect(stored.status).toBe("failed");
    expect(stored.runAt).toEqual(run.runAt);
    // A failed job can be claimed again by id.
    const again = await runJob(queue, job.id, { handler: () => "paid" });
    expect(again).toMatchObject({ outcome: "succeeded", result: "paid" });
    expect(again.job.attempts).toBe(2);
  });

  it("refuses a job that is not claimable with an InvalidStateError, and an unknown id with JobNotFoundError", async () => {
    const queue = q();
    const { job } = await queue.enqueue("once", {});
    await runJob(queue, job.id, () => 1);
    const error = await runJob(queue, job.id, () => 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as InvalidStateError).status).toBe("succeeded");
    expect((error as Error).message).toBe(`Cannot run job \`${job.id}\`: it is \`succeeded\`, expected one of \`queued\`, \`failed\``);
    const { job: canceled } = await queue.enqueue("once", {});
    await queue.cancel(canceled.id);
    await expect(runJob(queue, canceled.id, () => 1)).rejects.toMatchObject({ code: "INVALID_STATE", status: "canceled" });
    await expect(runJob(queue, "00000000-0000-7000-8000-000000000000", () => 1)).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it("refuses handlers without one for the job's type before claiming it", async () => {
    const queue = q();
    const { job } = await queue.enqueue("mine", {});
    await expect(runJob(queue, job.id, { theirs: () => 1 })).rejects.toMatchObject({ field: "handler" });
    await expect(runJob(queue, "not-a-uuid", () => 1)).rejects.toMatchObject({ field: "id" });
    const spec = await runJob(queue, job.id, { handler: () => 1, timeoutMs: 0 }).catch((e: unknown) => e);
    expect(spec).toMatchObject({ field: "handler.timeoutMs" });
    expect((spec as Error).message).toMatch(/^Expected `handler.timeoutMs` to be an integer/);
    expect((await queue.getJob(job.id))!).toMatchObject({ status: "queued", attempts: 0 });
  });
});
