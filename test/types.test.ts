import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { Metrics, Queue, Worker, WORKER_DEFAULTS, type EnqueueResult, type Job, type JobContext, type QueueOptions, type WorkerOptions } from "../src/index.js";

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
        untyped: async (payload) => {
          // Nothing checked an unregistered type's payload: it is unknown.
          expectTypeOf(payload).toBeUnknown();
          return 1;
        },
        spec: { handler: async (payload) => expectTypeOf(payload).toBeUnknown() },
      },
      { connectionString: "postgres://unused@127.0.0.1:1/x", schemas },
    );
    expectTypeOf(worker.id).toBeString();
    void worker.stop();
  });

  it("refuses a handler that claims a payload type nothing checks", () => {
    const url = "postgres://unused@127.0.0.1:1/x";
    // @ts-expect-error an unregistered type's payload is unknown, not what the handler says
    void new Worker({ untyped: async (payload: { anything: number }) => payload.anything }, { connectionString: url, schemas }).stop();
    // @ts-expect-error a registered type's payload is the schema's output, not what the handler says
    void new Worker({ send_email: async (payload: { to: number }) => payload.to }, { connectionString: url, schemas }).stop();
    // Without schemas every payload is unknown.
    void new Worker({ any: async (payload) => expectTypeOf(payload).toBeUnknown() }, { connectionString: url }).stop();
  });

  it("lets Metrics take queues and workers of any schemas", () => {
    const url = "postgres://unused@127.0.0.1:1/x";
    const queue = new Queue({ connectionString: url, schemas });
    const worker = new Worker({ send_email: async (payload) => payload.to }, { connectionString: url, schemas });
    const metrics = new Metrics({ queue, workers: [worker] }).track(new Worker({ other: async () => 1 }, { connectionString: url }));
    // Types only: rendering would read the (unreachable) database.
    expectTypeOf(metrics.render).returns.resolves.toBeString();
    void queue.close();
  });

  it("derives the option types from the schemas that validate them", () => {
    expectTypeOf<WorkerOptions["concurrency"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<WorkerOptions["scheduler"]>().toEqualTypeOf<boolean | { intervalMs?: number | undefined } | undefined>();
    expectTypeOf<WorkerOptions["retention"]>().toMatchTypeOf<false | { succeededMs?: number | false | undefined } | undefined>();
    expectTypeOf<QueueOptions["poolSize"]>().toEqualTypeOf<number | undefined>();
    // @ts-expect-error not an option
    const unknownOption: WorkerOptions = { concurency: 5 };
    void unknownOption;
    expectTypeOf(WORKER_DEFAULTS.concurrency).toEqualTypeOf<10>();
  });
});
