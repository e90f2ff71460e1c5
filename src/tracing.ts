/**
 * OpenTelemetry tracing through `@opentelemetry/api`, an optional peer
 * dependency loaded once, lazily: without it, or without a registered tracer
 * provider, no span is made and nothing is stored.
 *
 * A span of kind PRODUCER wraps each enqueue (one for a bulk call). Its W3C
 * trace context (`traceparent`, `tracestate`) is stored in the job's
 * `trace_context` column. Each execution gets a span of kind CONSUMER that
 * links to that context, with the handler running inside it. A link, not a
 * parent: the execution happens later, maybe many times (retries), often in a
 * batch claimed together, and the producer's trace has long ended; this is
 * what OpenTelemetry's messaging conventions recommend.
 */
import type * as Otel from "@opentelemetry/api";
import { coerceError } from "./errors.js";
import type { Job } from "./types.js";

type Api = typeof Otel;

/** The trace context stored with a job. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

let api: Api | null | undefined;
let loading: Promise<void> | undefined;
const producerContexts = new WeakMap<Job, TraceContext>();

/** Loads `@opentelemetry/api` if it is installed; resolves at once after the first time. */
export function loadTracing(): Promise<void> {
  loading ??= import("@opentelemetry/api").then(
    (module) => {
      const namespace = module as unknown as Api & { default?: Api };
      api = namespace.trace ? namespace : (namespace.default ?? null);
    },
    () => {
      api = null;
    },
  );
  return loading;
}

/** Whether loading has not been tried yet (callers then await `loadTracing()` once). */
export const tracingUnknown = (): boolean => api === undefined;

let noopProvider: Otel.TracerProvider | undefined;

/**
 * Whether spans would be recorded: the API is loaded and a tracer provider
 * registered. Two property reads per call, so a provider registered later is
 * picked up, and without one the job path makes no span at all.
 */
export function tracingOn(): boolean {
  const a = api;
  if (!a) return false;
  noopProvider ??= new a.ProxyTracerProvider().getDelegate();
  const provider = a.trace.getTracerProvider() as Otel.ProxyTracerProvider;
  return typeof provider.getDelegate !== "function" || provider.getDelegate() !== noopProvider;
}

const tracer = (a: Api) => a.trace.getTracer("djps");

function traceparentOf(context: Otel.SpanContext): TraceContext {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, "0");
  const out: TraceContext = { traceparent: `00-${context.traceId}-${context.spanId}-${flags}` };
  const state = context.traceState?.serialize();
  if (state) out.tracestate = state;
  return out;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function spanContextOf(a: Api, stored: TraceContext): Otel.SpanContext | undefined {
  const match = TRACEPARENT.exec(stored.traceparent ?? "");
  if (!match) return undefined;
  const context: Otel.SpanContext = { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16), isRemote: true };
  return a.isSpanContextValid(context) ? context : undefined;
}

/** An enqueue's span: its context to store on the jobs, and how to end it. */
export interface ProducerSpan {
  readonly traceContext: TraceContext;
  end(jobIds: readonly string[], error?: unknown): void;
}

/**
 * Starts the PRODUCER span of an enqueue into `queue`, or returns null when
 * tracing is off (no API, no provider, or a context nobody samples).
 */
export function startProducerSpan(queue: string, type: string | undefined, count: number): ProducerSpan | null {
  const a = api;
  if (!a || !tracingOn()) return null;
  const attributes: Otel.Attributes = {
    "messaging.system": "djps",
    "messaging.operation.type": "send",
    "messaging.operation.name": count > 1 ? "enqueue_many" : "enqueue",
    "messaging.destination.name": queue,
  };
  if (type !== undefined) attributes["djps.job.type"] = type;
  if (count > 1) attributes["messaging.batch.message_count"] = count;
  const span = tracer(a).startSpan(`send ${queue}`, { kind: a.SpanKind.PRODUCER, attributes });
  const context = span.spanContext();
  if (!span.isRecording() && !a.isSpanContextValid(context)) {
    span.end();
    return null;
  }
  return {
    traceContext: traceparentOf(context),
    end(jobIds, error) {
      if (jobIds.length === 1) span.setAttribute("messaging.message.id", jobIds[0]!);
      if (error !== undefined) {
        span.recordException(coerceError(error));
        span.setStatus({ code: a.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      span.end();
    },
  };
}

/** Remembers the trace context a claimed job carried (from its row). */
export function rememberProducer(job: Job, stored: unknown): void {
  if (stored && typeof stored === "object" && typeof (stored as TraceContext).traceparent === "string") {
    producerContexts.set(job, stored as TraceContext);
  }
}

/**
 * Runs one execution of `job` inside a CONSUMER span linked to its producer's
 * context. `outcome` tells how it ended: an error marks the span failed.
 *
 * A tracer that throws (from starting, reporting or ending a span) changes
 * nothing about the execution: the job runs, untraced if need be, and its
 * outcome is the handler's. Tracing is an observer, and a failure of its own
 * must not fail jobs or leave them running.
 */
export async function traceExecution<T>(job: Job, attempt: number, run: () => Promise<T>, failure: (result: T) => Error | undefined): Promise<T> {
  const a = api;
  if (!a || !tracingOn()) return run();
  const span = consumerSpan(a, job, attempt);
  if (!span) return run();
  let ran = false;
  const inside = () => {
    ran = true;
    return run();
  };
  let result: T;
  try {
    result = await a.context.with(a.trace.setSpan(a.context.active(), span), inside);
  } catch (error) {
    quietly(() => span.end());
    // The context manager failed before the run began: run it outside the span.
    if (!ran) return run();
    throw error;
  }
  quietly(() => {
    const error = failure(result);
    if (error) {
      span.recordException(error);
      span.setStatus({ code: a.SpanStatusCode.ERROR, message: error.message });
    }
  });
  quietly(() => span.end());
  return result;
}

/** The CONSUMER span of one execution, or undefined when it records nothing or the tracer threw. */
function consumerSpan(a: Api, job: Job, attempt: number): Otel.Span | undefined {
  let span: Otel.Span | undefined;
  try {
    const stored = producerContexts.get(job);
    const link = stored ? spanContextOf(a, stored) : undefined;
    span = tracer(a).startSpan(
      `process ${job.queue}`,
      {
        kind: a.SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "djps",
          "messaging.operation.type": "process",
          "messaging.destination.name": job.queue,
          "messaging.message.id": job.id,
          "djps.job.type": job.type,
          "djps.job.attempt": attempt,
        },
        links: link ? [{ context: link }] : [],
      },
      a.ROOT_CONTEXT,
    );
    if (span.isRecording()) return span;
  } catch {
    // A tracer that cannot start a span: the execution runs untraced.
  }
  quietly(() => span?.end());
  return undefined;
}

/** Calls into the tracer, ignoring a throw: see traceExecution. */
function quietly(call: () => void): void {
  try {
    call();
  } catch {
    // ignored, as above
  }
}
