import { z } from "zod";
import { runner } from "../../db.js";
import { jobDeadGroups } from "../../sql/jobDeadGroups.js";
import { jobFindByKey } from "../../sql/jobFindByKey.js";
import { jobFromRow } from "../../sql/jobRow.js";
import { jobTrace } from "../../sql/jobTrace.js";
import type { Sql } from "../../sql/query.js";
import { HttpError } from "../errors.js";
import type { Route, RouteContext } from "../routes.js";
import { jobIdParam } from "../schemas.js";
import { inScope } from "../scope.js";
import type { LiveFeed } from "./live.js";
import { readSnapshot, scopedSnapshot } from "./snapshot.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const searchQuerySchema = z.strictObject(
  {
    q: z
      .string({ error: "a job id or an idempotency key" })
      .min(1, { error: "a job id or an idempotency key" })
      .max(500, { error: "a job id or an idempotency key of at most 500 characters" })
      .meta({ description: "A job id, or an idempotency key (of any job type)." }),
  },
  { error: "the query parameter q" },
);

const readErrors = {
  400: { description: "A field is invalid: `error.field` names it." },
  401: { description: "No key, or an unknown or revoked one." },
  429: { description: "The key's rate limit is used up: see `Retry-After`." },
  503: { description: "The database is unreachable or its schema is not current." },
};

/** The most dead-letter groups listed, largest first. */
const MAX_GROUPS = 200;
/** The most jobs a search by idempotency key answers. */
const MAX_FOUND = 50;

const sqlOf = (ctx: RouteContext): Sql => ({ schema: ctx.queue.schema, run: runner(ctx.queue.pool, true) });

/**
 * The endpoints the dashboard reads beyond the API's own: who the key is,
 * the overview in one request, search, dead-letter groups, a job's trace,
 * and the live event stream. Like every endpoint, each answers only for the
 * queues the key may see.
 */
export function dashboardRoutes(live: LiveFeed): Route[] {
  return [
    {
      method: "GET",
      path: "/key",
      summary: "What the key in use may do (the dashboard hides the actions a read-only key may not take)",
      access: "read",
      responses: { 200: { description: "`{ auth, readOnly, queues }`: `queues` null means every queue." }, ...readErrors },
      async run(ctx) {
        const { principal } = ctx;
        return { status: 200, json: { auth: principal.keyId !== null, readOnly: principal.readOnly, queues: principal.queues } };
      },
    },
    {
      method: "GET",
      path: "/overview",
      summary: "Statistics, workers and the last hour's throughput per minute, in one answer",
      access: "read",
      responses: { 200: { description: "`{ at, stats, workers, throughput }` for the queues in scope." }, ...readErrors },
      async run(ctx) {
        return { status: 200, json: scopedSnapshot(ctx.principal, await readSnapshot(ctx.queue)) };
      },
    },
    {
      method: "GET",
      path: "/events",
      summary: "Server-Sent Events: `snapshot` (as `/overview`) whenever something changed, and `database` ({ up }) when it goes or comes back",
      access: "read",
      responses: { 200: { description: "An event stream.", contentType: "text/event-stream" }, ...readErrors },
      async run(ctx) {
        // HEAD says what a GET would get, without holding a stream open.
        if (ctx.req.method === "HEAD") return { status: 200, bytes: Buffer.alloc(0), headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store" } };
        return { status: 200, stream: (res) => live.attach(ctx.principal, ctx.req, res) };
      },
    },
    {
      method: "GET",
      path: "/search",
      summary: "Find jobs by id or by idempotency key",
      access: "read",
      query: searchQuerySchema,
      responses: { 200: { description: "`{ jobs }`: the matches the key may see, newest first." }, ...readErrors },
      async run(ctx: RouteContext<z.output<typeof searchQuerySchema>>) {
        const q = ctx.query.q.trim();
        const jobs = UUID.test(q) ? [await ctx.queue.getJob(q.toLowerCase())].filter((j) => j !== null) : [];
        const byKey = (await jobFindByKey(sqlOf(ctx), { key: q, limit: MAX_FOUND })).map(jobFromRow);
        const found = [...jobs, ...byKey.filter((j) => !jobs.some((k) => k.id === j.id))];
        return { status: 200, json: { jobs: found.filter((j) => inScope(ctx.principal, j.queue)) } };
      },
    },
    {
      method: "GET",
      path: "/dead/groups",
      summary: "Dead jobs grouped by queue, type and last error, largest group first",
      access: "read",
      responses: { 200: { description: "`{ groups: [{ queue, type, lastError, count, latest, example }] }`." }, ...readErrors },
      async run(ctx) {
        const rows = await jobDeadGroups(sqlOf(ctx), { limit: MAX_GROUPS });
        const groups = rows
          .filter((r) => inScope(ctx.principal, r.queue))
          .map((r) => ({ queue: r.queue, type: r.type, lastError: r.last_error, count: r.count, latest: r.latest, example: r.example }));
        return { status: 200, json: { groups } };
      },
    },
    {
      method: "GET",
      path: "/jobs/:id/trace",
      summary: "The trace context the job carries from the span that enqueued it",
      access: "read",
      params: { id: jobIdParam },
      responses: { 200: { description: "`{ traceId, traceparent, tracestate }`, each null when the job has none." }, ...readErrors, 404: { description: "No such job." } },
      async run(ctx) {
        const job = await ctx.queue.getJob(ctx.params.id!);
        if (!job || !inScope(ctx.principal, job.queue)) throw new HttpError(404, "NOT_FOUND", `No job with id \`${ctx.params.id}\``);
        const [row] = await jobTrace(sqlOf(ctx), { id: job.id });
        const traceparent = typeof row?.trace_context?.traceparent === "string" ? row.trace_context.traceparent : null;
        const tracestate = typeof row?.trace_context?.tracestate === "string" ? row.trace_context.tracestate : null;
        return { status: 200, json: { traceId: traceparent?.split("-")[1] ?? null, traceparent, tracestate } };
      },
    },
  ];
}
