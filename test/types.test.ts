import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { Queue, Worker, type EnqueueResult, type Job, type JobContext } from "../src/index.js";

// Compile-time checks: `npm run typecheck` (and CI) fails if the public types regress.
// The objects are built but never connect: no database is touched here.
const schemas = {
  send_email: z.object({ to: z.string(), tries: z.coerce.number().default(1) }),
};

describe("public types", () => {
  it("types payloads by the registered schemas", () => {
    const queue = new Queue({ connectionString: "postgres://unused@127.0.0.1:1/x", schemas });
    expectTypeOf(queue.enqueue<"send_email">).parameter(1).toEqualTypeOf<{ to: string; tries?: unknown }>();
    // @ts-expect-error `to` must be a string
    void (() => queue.enqueue("send_email", { to: 1 }));
    // Types without a schema take any JSON.
    expectTypeOf(queue.enqueue<"other">).parameter(1).toBeUnknown();
    expectTypeOf<ReturnType<typeof queue.enqueue<"other">>>().resolves.toMatchTypeOf<EnqueueResult>();
    void queue.close();
  });

  it("gives handlers the parsed payload type", () => {
    const worker = new Worker(
      {
        send_email: async (payload, ctx) => {
          expectTypeOf(payload).toEqualTypeOf<{ to: string; tries: number }>();
          expectTypeOf(ctx).toMatchTypeOf<JobContext>();
          expectTypeOf(ctx.job).toMatchTypeOf<Job>();
          expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
          return { ok: true };
        },
        untyped: async (payload: { anything: number }) => payload.anything,
      },
      { connectionString: "postgres://unused@127.0.0.1:1/x", schemas },
    );
    expectTypeOf(worker.id).toBeString();
    void worker.stop();
  });
});
