import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { CONTENT_TYPE, render } from "../metrics/exposition.js";
import { queueFamilies } from "../metrics/queueGauges.js";
import type { Queue } from "../queue.js";
import type { ListJobsOptions } from "../options.js";
import type { Job, JobPage } from "../types.js";
import type { Principal } from "./auth.js";
import { HttpError } from "./errors.js";
import { checkHealth } from "./health.js";
import {
  batchBodySchema,
  batchResponse,
  deadFilterBodySchema,
  deadListQuerySchema,
  enqueueBodySchema,
  enqueueResponse,
  healthResponse,
  jobIdParam,
  jobPageResponse,
  jobResponse,
  listQuerySchema,
  purgedResponse,
  queueNameParam,
  limitsBodySchema,
  queueLimitsResponse,
  queueStateResponse,
  queuesResponse,
  retriedResponse,
  schedulesResponse,
  statsResponse,
  type EnqueueBody,
} from "./schemas.js";
import { inScope, listedQueues, requireQueue, scopedStats } from "./scope.js";

/** What a route's `run` gets: the parsed request and who sent it. */
export interface RouteContext<Q = unknown, B = unknown> {
  readonly queue: Queue;
  /** Where the API is mounted (for `Location` headers). */
  readonly basePath: string;
  readonly principal: Principal;
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Q;
  readonly body: B;
}

/**
 * A response: JSON (the usual); text with its own type (metrics); bytes with
 * their own headers (the dashboard's page and files); or a stream the route
 * writes itself (the dashboard's live events).
 */
export type Reply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; text: string; contentType: string }
  | { status: number; bytes: Buffer; headers: Record<string, string> }
  | { status: 200; stream: (res: ServerResponse) => void };

/** What a route answers, for the OpenAPI document. */
export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

/**
 * One endpoint. The same object routes requests, validates them and writes
 * the OpenAPI document: `query` and `body` are the zod schemas that parse the
 * request, `responses` describe the answers.
 */
export interface Route {
  readonly method: "GET" | "POST";
  /** Relative to the base path; `:name` segments are parameters. */
  readonly path: string;
  readonly summary: string;
  /** `public`: no key (health, the document); `read`: any key in scope; `write`: a read-write key. */
  readonly access: "public" | "read" | "write";
  readonly params?: Readonly<Record<string, z.ZodType>>;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** Request headers the route reads, for the document. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  run(ctx: RouteContext<any, any>): Promise<Reply>;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, json: body, ...(headers ? { headers } : {}) });

/** The job with this id, if the principal may see it; else 404, as if it did not exist. */
async function visibleJob(ctx: RouteContext, id: string): Promise<Job> {
  const job = await ctx.queue.getJob(id);
  if (!job || !inScope(ctx.principal, job.queue)) throw new HttpError(404, "NOT_FOUND", `No job with id \`${id}\``);
  return job;
}

/** `enqueue`'s options from a body, with the `Idempotency-Key` header when the body has none. */
function enqueueOptions(body: EnqueueBody) {
  const { type: _type, payload: _payload, ...options } = body;
  return options;
}

function idempotencyHeader(req: IncomingMessage): string | undefined {
  const value = req.headers["idempotency-key"];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Runs a Queue call whose ValidationErrors name the API's fields
 * (`options.priority`, `items.3.payload`): renames them to the request's
 * (`priority`, `jobs.3.payload`).
 */
async function renamingFields<T>(rename: (field: string) => string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const e = error as { code?: unknown; field?: unknown; message?: unknown };
    if (e && e.code === "VALIDATION" && typeof e.field === "string" && typeof e.message === "string") {
      const field = rename(e.field);
      throw new HttpError(400, "VALIDATION", e.message.replaceAll(`\`${e.field}\``, `\`${field}\``), { field });
    }
    throw error;
  }
}

const fromOptions = (field: string) => field.replace(/^options\./, "");

/**
 * A page of jobs across the queues in scope. One queue (or every queue) is
 * one `listJobs`; a key scoped to several queues lists each with the same
 * cursor and merges them newest first: pages are keyset pages on the id, so
 * the merged page continues exactly where the last one ended.
 */
async function listInScope(ctx: RouteContext, queue: string | undefined, options: Omit<ListJobsOptions, "queue">): Promise<JobPage> {
  const queues = listedQueues(ctx.principal, queue, "queue");
  if (queues === undefined || queues.length === 1) {
    return renamingFields(fromOptions, () => ctx.queue.listJobs({ ...options, queue: queues?.[0] }));
  }
  const limit = options.limit ?? 100;
  const pages = await renamingFields(fromOptions, () => Promise.all(queues.map((q) => ctx.queue.listJobs({ ...options, queue: q, limit }))));
  const merged = pages.flatMap((p) => p.jobs).sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const jobs = merged.slice(0, limit);
  const more = merged.length > limit || pages.some((p) => p.nextCursor !== null);
  return { jobs, nextCursor: more ? jobs[jobs.length - 1]!.id : null };
}

/** A dead-letter action over the queues in scope: one call per queue when a key has several, summed. */
async function eachQueueInScope<K extends string>(
  ctx: RouteContext,
  queue: string | undefined,
  act: (queue: string | undefined) => Promise<Record<K, number>>,
  key: K,
): Promise<Record<K, number>> {
  const queues = listedQueues(ctx.principal, queue, "queue");
  if (queues === undefined) return act(undefined);
  let total = 0;
  for (const q of queues) total += (await act(q))[key];
  return { [key]: total } as Record<K, number>;
}
const fromItems = (field: string) => field.replace(/^items\.(\d+)\.(?:options\.)?/, "jobs.$1.");

const errors = {
  400: { description: "A field is invalid: `error.field` names it." },
  401: { description: "No key, or an unknown or revoked one." },
  403: { description: "The key may not use this queue, or is read-only." },
  429: { description: "The key's rate limit is used up: see `Retry-After`." },
  503: { description: "The database is unreachable or its schema is not current." },
} as const;
const readErrors = { 400: errors[400], 401: errors[401], 403: errors[403], 429: errors[429], 503: errors[503] };
const notFound = { 404: { description: "No such job (or one the key may not see)." } };

const jobsQueue = (body: EnqueueBody) => body.queue ?? "default";

export const routes: readonly Route[] = [
  {
    method: "POST",
    path: "/jobs",
    summary: "Enqueue a job",
    access: "write",
    body: enqueueBodySchema,
    headers: { "Idempotency-Key": "The idempotency key, when the body has none." },
    responses: {
      201: { description: "A new job.", schema: enqueueResponse },
      200: { description: "The job already enqueued with this idempotency key.", schema: enqueueResponse },
      ...readErrors,
      413: { description: "The body is over the limit." },
      415: { description: "The body is not JSON." },
    },
    async run(ctx: RouteContext<undefined, EnqueueBody>) {
      const body = ctx.body;
      requireQueue(ctx.principal, jobsQueue(body), "queue");
      const header = idempotencyHeader(ctx.req);
      const options = enqueueOptions(body);
      if (header !== undefined) {
        if (options.idempotencyKey !== undefined && options.idempotencyKey !== header) {
          throw new HttpError(400, "VALIDATION", "Expected the `Idempotency-Key` header to match the body's `idempotencyKey`", { field: "Idempotency-Key" });
        }
        options.idempotencyKey = header;
      }
      const result = await renamingFields(
        (f) => (f === "options.idempotencyKey" && header !== undefined ? "Idempotency-Key" : fromOptions(f)),
        () => ctx.queue.enqueue(body.type, body.payload, options),
      );
      return json(result.created ? 201 : 200, result, { Location: `${ctx.basePath}/jobs/${result.job.id}` });
    },
  },
  {
    method: "POST",
    path: "/jobs/batch",
    summary: "Enqueue many jobs in one statement",
    access: "write",
    body: batchBodySchema,
    responses: { 200: { description: "One result per job, in order.", schema: batchResponse }, ...readErrors, 413: { description: "The body is over the limit." } },
    async run(ctx: RouteContext<undefined, { jobs: EnqueueBody[] }>) {
      ctx.body.jobs.forEach((job, i) => requireQueue(ctx.principal, jobsQueue(job), `jobs.${i}.queue`));
      const items = ctx.body.jobs.map((job) => ({ type: job.type, payload: job.payload, options: enqueueOptions(job) }));
      const results = await renamingFields(fromItems, () => ctx.queue.enqueueMany(items));
      return json(200, { results });
    },
  },
  {
    method: "GET",
    path: "/jobs/:id",
    summary: "Get a job",
    access: "read",
    params: { id: jobIdParam },
    responses: { 200: { description: "The job.", schema: jobResponse }, ...readErrors, ...notFound },
    async run(ctx) {
      return json(200, await visibleJob(ctx, ctx.params.id!));
    },
  },
  {
    method: "GET",
    path: "/jobs",
    summary: "List jobs, newest first, a page at a time",
    access: "read",
    query: listQuerySchema,
    responses: { 200: { description: "A page of jobs.", schema: jobPageResponse }, ...readErrors },
    async run(ctx: RouteContext<z.output<typeof listQuerySchema>>) {
      const { status, queue, type, group, cursor, limit } = ctx.query;
      return json(200, await listInScope(ctx, queue, { status, type, group, cursor, limit }));
    },
  },
  {
    method: "POST",
    path: "/jobs/:id/cancel",
    summary: "Cancel a job (a running one: ask its worker to stop it)",
    access: "write",
    params: { id: jobIdParam },
    responses: { 200: { description: "The canceled job.", schema: jobResponse }, ...readErrors, ...notFound, 409: { description: "The job's state does not allow it." } },
    async run(ctx) {
      const job = await visibleJob(ctx, ctx.params.id!);
      return json(200, await ctx.queue.cancel(job.id));
    },
  },
  {
    method: "POST",
    path: "/jobs/:id/retry",
    summary: "Retry a failed, dead or canceled job now",
    access: "write",
    params: { id: jobIdParam },
    responses: { 200: { description: "The job, queued again.", schema: jobResponse }, ...readErrors, ...notFound, 409: { description: "The job's state does not allow it." } },
    async run(ctx) {
      const job = await visibleJob(ctx, ctx.params.id!);
      return json(200, await ctx.queue.retry(job.id));
    },
  },
  {
    method: "GET",
    path: "/stats",
    summary: "Counts, lag and recent outcomes by queue",
    access: "read",
    responses: { 200: { description: "The statistics of the queues in scope.", schema: statsResponse }, ...readErrors },
    async run(ctx) {
      return json(200, scopedStats(ctx.principal, await ctx.queue.stats()));
    },
  },
  {
    method: "GET",
    path: "/dead",
    summary: "List dead jobs, newest first",
    access: "read",
    query: deadListQuerySchema,
    responses: { 200: { description: "A page of dead jobs.", schema: jobPageResponse }, ...readErrors },
    async run(ctx: RouteContext<z.output<typeof deadListQuerySchema>>) {
      const { queue, type, cursor, limit } = ctx.query;
      return json(200, await listInScope(ctx, queue, { status: "dead", type, cursor, limit }));
    },
  },
  {
    method: "POST",
    path: "/dead/retry",
    summary: "Retry the dead jobs a filter picks",
    access: "write",
    body: deadFilterBodySchema,
    responses: { 200: { description: "How many were put back.", schema: retriedResponse }, ...readErrors },
    async run(ctx: RouteContext<undefined, z.output<typeof deadFilterBodySchema>>) {
      return json(200, await eachQueueInScope(ctx, ctx.body.queue, (queue) => ctx.queue.retryDead({ ...ctx.body, queue }), "retried"));
    },
  },
  {
    method: "POST",
    path: "/dead/purge",
    summary: "Delete the dead jobs a filter picks",
    access: "write",
    body: deadFilterBodySchema,
    responses: { 200: { description: "How many were deleted.", schema: purgedResponse }, ...readErrors },
    async run(ctx: RouteContext<undefined, z.output<typeof deadFilterBodySchema>>) {
      return json(200, await eachQueueInScope(ctx, ctx.body.queue, (queue) => ctx.queue.purgeDead({ ...ctx.body, queue }), "purged"));
    },
  },
  {
    method: "GET",
    path: "/queues",
    summary: "Queues with their counts and pause state",
    access: "read",
    responses: { 200: { description: "Every queue in scope that holds jobs or is paused.", schema: queuesResponse }, ...readErrors },
    async run(ctx) {
      const [stats, paused] = await Promise.all([ctx.queue.stats(), ctx.queue.pausedQueues()]);
      const pausedAt = new Map(paused.map((p) => [p.queue, p.pausedAt]));
      const queues = scopedStats(ctx.principal, stats).queues.map((q) => ({
        queue: q.queue,
        paused: q.paused,
        pausedAt: pausedAt.get(q.queue) ?? null,
        counts: q.counts,
        total: q.total,
        lagMs: q.lagMs,
        limits: q.limits,
      }));
      return json(200, { queues });
    },
  },
  {
    method: "POST",
    path: "/queues/:name/limits",
    summary: "Set a queue's cluster-wide concurrency, rate and group limits",
    access: "write",
    params: { name: queueNameParam },
    body: limitsBodySchema,
    responses: { 200: { description: "The queue's limits now.", schema: queueLimitsResponse }, ...readErrors },
    async run(ctx: RouteContext<undefined, z.infer<typeof limitsBodySchema>>) {
      const name = ctx.params.name!;
      const limits = await renamingFields(
        (f) => (f === "name" ? "name" : f.replace(/^limits\./, "")),
        async () => {
          requireQueue(ctx.principal, name, "name");
          return ctx.queue.setLimits(name, ctx.body);
        },
      );
      return json(200, limits);
    },
  },
  ...(["pause", "resume"] as const).map(
    (action): Route => ({
      method: "POST",
      path: `/queues/:name/${action}`,
      summary: action === "pause" ? "Pause a queue for every worker" : "Resume a paused queue",
      access: "write",
      params: { name: queueNameParam },
      responses: { 200: { description: "The queue's state now.", schema: queueStateResponse }, ...readErrors },
      async run(ctx) {
        const name = ctx.params.name!;
        const state = await renamingFields(
          () => "name",
          async () => {
            requireQueue(ctx.principal, name, "name");
            return action === "pause" ? ctx.queue.pause(name) : ctx.queue.resume(name);
          },
        );
        return json(200, state);
      },
    }),
  ),
  {
    method: "GET",
    path: "/schedules",
    summary: "Recurring schedules",
    access: "read",
    responses: { 200: { description: "The schedules whose jobs go to queues in scope.", schema: schedulesResponse }, ...readErrors },
    async run(ctx) {
      const schedules = (await ctx.queue.listSchedules()).filter((s) => inScope(ctx.principal, s.queue));
      return json(200, { schedules });
    },
  },
  {
    method: "GET",
    path: "/metrics",
    summary: "The queue gauges in the Prometheus text format",
    access: "read",
    responses: {
      200: { description: "Prometheus text (database-wide: only for keys that may see every queue).", contentType: CONTENT_TYPE },
      ...readErrors,
    },
    async run(ctx) {
      if (ctx.principal.queues !== null) throw new HttpError(403, "FORBIDDEN", "Metrics cover every queue: this key is scoped to some");
      return { status: 200, text: render(queueFamilies(await ctx.queue.stats())), contentType: CONTENT_TYPE };
    },
  },
  {
    method: "GET",
    path: "/health",
    summary: "Is the database reachable and its schema current? (No key needed.)",
    access: "public",
    responses: {
      200: { description: "Healthy.", schema: healthResponse },
      503: { description: "The database is unreachable or its schema is not current: `error.message` says which." },
    },
    async run(ctx) {
      await checkHealth(ctx.queue);
      return json(200, { status: "ok" });
    },
  },
];
