import { query } from "./query.js";

/** The W3C trace context a job carries from the span that enqueued it (null when none). */
export const jobTrace = query<{ id: string }, { trace_context: { traceparent?: string; tracestate?: string } | null }>(
  "jobTrace",
  (s) => `SELECT trace_context FROM ${s}.jobs WHERE id = $1::uuid`,
  (p) => [p.id],
);
