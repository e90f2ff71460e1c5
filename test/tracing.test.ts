import { context, trace, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PermanentJobError, type Queue, type Worker } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";
import { nextEvent } from "./support/worker.js";

// Spans go to an in-memory exporter. The provider is registered for part of
// the file only: the first test runs without one.

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

// A schema of its own for each test, so its spans are of its jobs only.
const bed = useTestBed("otel", { schemaPerTest: true });
let db: TestSchema;
let queue: Queue;
let worker: Worker;
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  trace.disable();
  context.disable();
});
beforeEach(() => {
  exporter.reset();
  ({ db, queue } = bed);
  worker = bed.worker(
    {
      traced: async () => {
        trace.getTracer("app").startSpan("inside the handler").end();
      },
      broken: async () => {
        throw new PermanentJobError("nope");
      },
    },
    { scheduler: false },
  );
});

const storedContext = async (id: string) =>
  (await db.pool.query(`SELECT trace_context FROM "${db.schema}".jobs WHERE id = $1`, [id])).rows[0].trace_context;
const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const spansNamed = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

describe("tracing", () => {
  it("makes no span and stores nothing without a tracer provider", async () => {
    const done = nextEvent(worker, "job:succeeded");
    await worker.start();
    const { job } = await queue.enqueue("traced", {});
    await done;
    expect(await storedContext(job.id)).toBeNull();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  describe("with a provider", () => {
    beforeAll(() => {
      trace.setGlobalTracerProvider(provider);
    });

    it("links the execution to the enqueue's trace, and nests the handler's spans", async () => {
      const done = nextEvent(worker, "job:succeeded");
      await worker.start();
      const app = trace.getTracer("app");
      const { job } = await app.startActiveSpan("http request", async (request) => {
        try {
          return await queue.enqueue("traced", { n: 1 }, { queue: "default" });
        } finally {
          request.end();
        }
      });
      await done;
      const [request] = spansNamed("http request");
      const [send] = spansNamed("send default");
      expect(send!.kind).toBe(SpanKind.PRODUCER);
      expect(send!.spanContext().traceId).toBe(request!.spanContext().traceId);
      expect(send!.parentSpanContext?.spanId).toBe(spanId(request!));
      expect(send!.attributes).toMatchObject({
        "messaging.system": "djps",
        "messaging.operation.type": "send",
        "messaging.destination.name": "default",
        "messaging.message.id": job.id,
        "djps.job.type": "traced",
      });
      const stored = await storedContext(job.id);
      expect(stored.traceparent).toBe(`00-${send!.spanContext().traceId}-${spanId(send!)}-01`);

      const [process] = await waitFor(() => (spansNamed("process default").length === 1 ? spansNamed("process default") : null), "the consumer span");
      expect(process!.kind).toBe(SpanKind.CONSUMER);
      expect(process!.links.map((l) => l.context.spanId)).toEqual([spanId(send!)]);
      expect(process!.links[0]!.context.traceId).toBe(request!.spanContext().traceId);
      expect(process!.attributes).toMatchObject({ "messaging.message.id": job.id, "djps.job.type": "traced", "djps.job.attempt": 1 });
      expect(process!.status.code).not.toBe(SpanStatusCode.ERROR);
      const [inside] = spansNamed("inside the handler");
      expect(inside!.parentSpanContext?.spanId).toBe(spanId(process!));
      expect(inside!.spanContext().traceId).toBe(process!.spanContext().traceId);
    });

    it("marks a failed execution, and traces a bulk enqueue as one span", async () => {
      const dead = nextEvent(worker, "job:dead");
      await worker.start();
      const results = await queue.enqueueMany([
        { type: "broken", payload: {} },
        { type: "broken", payload: {} },
      ]);
      await dead;
      const [send] = spansNamed("send default");
      expect(send!.attributes).toMatchObject({ "messaging.batch.message_count": 2, "djps.job.type": "broken" });
      for (const { job } of results) expect((await storedContext(job.id)).traceparent).toContain(spanId(send!));
      const failed = await waitFor(() => spansNamed("process default").find((s) => s.status.code === SpanStatusCode.ERROR), "a failed consumer span");
      expect(failed.status.message).toBe("nope");
      expect(failed.events.map((e) => e.name)).toContain("exception");
    });
  });
});
