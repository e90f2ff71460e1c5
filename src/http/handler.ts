import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { DEFAULT_MAX_PAYLOAD_BYTES, intSchema, MAX_INT } from "../options.js";
import type { Queue } from "../queue.js";
import { parse } from "../validate.js";
import { Authenticator, OPEN, type Principal } from "./auth.js";
import { readJson } from "./body.js";
import { LiveFeed } from "./dashboard/live.js";
import { dashboardFile, dashboardPage } from "./dashboard/page.js";
import { dashboardRoutes } from "./dashboard/routes.js";
import { errorResponse, HttpError } from "./errors.js";
import { openApiDocument } from "./openapi.js";
import { routes as apiRoutes, type Reply, type Route } from "./routes.js";
import { noQuerySchema } from "./schemas.js";
import { requireWrite } from "./scope.js";

/** Options for `createHandler`. */
export interface HandlerOptions {
  /** The Queue the API works on: its database, schema and payload rules. */
  queue: Queue<any>;
  /**
   * Where the API is mounted, e.g. `"/djps"`. A request whose path starts
   * with it has it removed; one whose path does not (a framework that strips
   * the mount path itself, like Express's `app.use`) is taken as it is.
   * @default ""
   */
  basePath?: string;
  /**
   * Require an API key (`Authorization: Bearer ...`) on every endpoint but
   * `/health` and `/openapi.json`. `false` lets every request in with full
   * rights: only behind authentication of your own.
   * @default true
   */
  auth?: boolean;
  /**
   * The largest request body, in bytes. Above the Queue's `maxPayloadBytes`
   * by a headroom for the other fields, so that a payload a little over the
   * Queue's limit gets the Queue's own message (400, naming `payload`).
   * @default the Queue's `maxPayloadBytes` + 64 KiB
   */
  maxBodyBytes?: number;
  /** The whole body must arrive within this long, or the request gets 408. @default 10000 */
  bodyTimeoutMs?: number;
  /**
   * Serve the dashboard at the base path (`GET /`, its files under
   * `/dashboard/`, its live events at `/events`). It uses the same keys as
   * the API. See docs/dashboard.md.
   * @default true
   */
  dashboard?: boolean;
  /** Called with each unexpected error (answered 500 with no details), e.g. to log it. */
  onError?: (error: unknown, req: IncomingMessage) => void;
  /**
   * How the dashboard's live feed paces itself, in ms (tests shorten it):
   * how often it reads the change counter (1000), the least time between two
   * snapshots (2000) and two throughput reads (10000), the keep-alive (15000),
   * and how long a stream lasts before the page opens a new one (300000).
   */
  liveTiming?: {
    /** How often the feed reads the change counter, in ms. @default 1000 */
    checkMs?: number;
    /** The least time between two snapshots, in ms. @default 2000 */
    minRefreshMs?: number;
    /** The least time between two throughput reads, in ms. @default 10000 */
    throughputMs?: number;
    /** How often a keep-alive is sent on an idle stream, in ms. @default 15000 */
    pingMs?: number;
    /** How long a stream lasts before the page opens a new one, in ms. @default 300000 */
    maxStreamMs?: number;
  };
}

/** A `node:http` request listener; Express, Connect and the like take it as middleware. */
export type Handler = (req: IncomingMessage, res: ServerResponse, next?: unknown) => Promise<void>;

/** The body limit's headroom over the payload limit, for the rest of the job's fields. */
const BODY_HEADROOM = 64 * 1024;

const handlerOptionsSchema = z.strictObject(
  {
    queue: z.custom<Queue<any>>(
      (v) => v !== null && typeof v === "object" && typeof (v as Queue).enqueue === "function" && typeof (v as Queue).getJob === "function" && "pool" in (v as object),
      { error: "a djps Queue" },
    ),
    basePath: z
      .string({ error: "a path like `/djps` (or empty)" })
      .regex(/^(\/[A-Za-z0-9._~-]+)*$/, { error: "a path like `/djps` (or empty), without a trailing slash" })
      .optional(),
    auth: z.boolean({ error: "a boolean" }).optional(),
    maxBodyBytes: intSchema(1, MAX_INT).optional(),
    bodyTimeoutMs: intSchema(1, MAX_INT).optional(),
    dashboard: z.boolean({ error: "a boolean" }).optional(),
    onError: z.custom<(error: unknown, req: IncomingMessage) => void>((v) => typeof v === "function", { error: "a function" }).optional(),
    liveTiming: z
      .strictObject({ checkMs: intSchema(1, MAX_INT).optional(), minRefreshMs: intSchema(0, MAX_INT).optional(), throughputMs: intSchema(0, MAX_INT).optional(), pingMs: intSchema(1, MAX_INT).optional(), maxStreamMs: intSchema(1, MAX_INT).optional() })
      .optional(),
  },
  { error: "an options object { queue, basePath, auth, maxBodyBytes, bodyTimeoutMs, dashboard, onError }" },
);

interface Compiled {
  route: Route;
  segments: string[];
}

/**
 * The HTTP API as a `(req, res)` handler on plain `node:http` types: mount it
 * in any server or framework. See docs/http.md. It works through the given
 * Queue (closing the Queue is the caller's job) and, with `auth` (the
 * default), accepts the API keys made by {@link createKey}. Every error
 * response has the shape of {@link ErrorBody}.
 * @param options The Queue, the mount path, `auth` (default true), body
 *   limits, `dashboard` (default true) and `onError`.
 * @returns A request listener that answers every request it is given.
 * @throws {@link index.ValidationError} for invalid options (e.g. a `basePath` with a trailing slash).
 * @example
 * import http from "node:http";
 * import { Queue } from "djps";
 * import { createHandler } from "djps/http";
 *
 * const queue = new Queue();
 * const api = createHandler({ queue, basePath: "/djps" });
 * http.createServer(api).listen(8080);      // or app.use("/djps", api) in Express
 */
export function createHandler(options: HandlerOptions): Handler {
  const opts = parse(handlerOptionsSchema, options, "options");
  const queue = opts.queue;
  const basePath = opts.basePath ?? "";
  const auth = opts.auth ?? true;
  // A Queue from an older build may lack the getter: fall back to the default limit.
  const payloadBytes = typeof queue.maxPayloadBytes === "number" ? queue.maxPayloadBytes : DEFAULT_MAX_PAYLOAD_BYTES;
  const limits = { maxBytes: opts.maxBodyBytes ?? payloadBytes + BODY_HEADROOM, timeoutMs: opts.bodyTimeoutMs ?? 10_000 };
  const authenticator = auth ? new Authenticator(queue.pool, queue.schema) : undefined;
  let document: unknown;
  const documentRoute: Route = {
    method: "GET",
    path: "/openapi.json",
    summary: "This API's OpenAPI document (no key needed)",
    access: "public",
    responses: { 200: { description: "The OpenAPI 3.1 document." } },
    async run() {
      document ??= openApiDocument(all, { basePath, auth });
      return { status: 200, json: document };
    },
  };
  const dashboard = opts.dashboard ?? true;
  const report = (error: unknown, req: IncomingMessage) => {
    try {
      opts.onError?.(error, req);
    } catch {
      // A failing error hook must not keep the client from its answer.
    }
  };
  const live = dashboard ? new LiveFeed(queue, opts.liveTiming, report) : undefined;
  const all: readonly Route[] = [...apiRoutes, ...(live ? dashboardRoutes(live) : []), documentRoute];
  const compiled: Compiled[] = all.map((route) => ({ route, segments: route.path.split("/").slice(1) }));

  return async (req, res) => {
    try {
      const reply = await respond(req);
      if ("json" in reply) sendJson(req, res, reply.status, reply.json, reply.headers);
      else if ("text" in reply) send(req, res, reply.status, reply.text, reply.contentType, {});
      else if ("bytes" in reply) sendBytes(req, res, reply.status, reply.bytes, reply.headers);
      else reply.stream(res);
    } catch (error) {
      const answer = errorResponse(error);
      if (!answer.expected) report(error, req);
      sendJson(req, res, answer.status, answer.body, answer.headers);
    }
  };

  async function respond(req: IncomingMessage): Promise<Reply> {
    const url = requestUrl(req.url ?? "/");
    let path = url.pathname;
    if (basePath && (path === basePath || path.startsWith(`${basePath}/`))) path = path.slice(basePath.length);
    if (dashboard && (req.method === "GET" || req.method === "HEAD")) {
      if (path === "" || path === "/") return dashboardPage(basePath);
      if (path.startsWith("/dashboard/")) return dashboardFile(req, path.slice("/dashboard/".length), url.searchParams.get("v"));
    }
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const { route, params } = match(path, req.method ?? "GET");
    const principal: Principal = route.access === "public" ? OPEN : authenticator ? await authenticator.authenticate(req) : OPEN;
    if (route.access === "write") requireWrite(principal);
    const query = parseRequest(route.query ?? noQuerySchema, queryObject(url.searchParams), "query");
    let body: unknown;
    if (route.body) {
      const raw = await readJson(req, limits);
      body = parseRequest(route.body, raw, "body");
    }
    return route.run({ queue, basePath, principal, req, params, query, body });
  }

  function match(path: string, method: string): { route: Route; params: Record<string, string> } {
    const segments = path.split("/").slice(1);
    const allowed: string[] = [];
    for (const { route, segments: pattern } of compiled) {
      if (pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const hit = pattern.every((p, i) => {
        if (p.startsWith(":")) {
          params[p.slice(1)] = safeDecode(segments[i]!);
          return true;
        }
        return p === segments[i];
      });
      if (!hit) continue;
      if (route.method === method || (method === "HEAD" && route.method === "GET")) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0) {
      throw new HttpError(405, "METHOD_NOT_ALLOWED", `Expected ${allowed.join(" or ")} for this path, got ${method}`, { headers: { Allow: allowed.join(", ") } });
    }
    throw new HttpError(404, "NOT_FOUND", "No such endpoint: see /openapi.json");
  }
}

/**
 * The request's URL. A path is appended to a dummy origin rather than
 * resolved against it, so that `//jobs` stays a path and is not read as a
 * host; an absolute URL (a request through a proxy) is taken as it is.
 */
function requestUrl(target: string): URL {
  try {
    return new URL(target.startsWith("/") ? `http://localhost${target}` : target);
  } catch {
    throw new HttpError(400, "VALIDATION", "Expected a valid request URL", { field: "url" });
  }
}

/**
 * Parses a body or query with its schema. A field error names the field as
 * the client wrote it (`priority`, `jobs.2.type`, `limit`); an error about
 * the whole of it names `body` or `query`.
 */
function parseRequest<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query"): z.output<S> {
  try {
    return parse(schema, value, where);
  } catch (error) {
    const e = error as { code?: unknown; field?: unknown; message?: unknown };
    if (e.code !== "VALIDATION" || typeof e.field !== "string" || !e.field.startsWith(`${where}.`) || typeof e.message !== "string") throw error;
    const field = e.field.slice(where.length + 1);
    throw new HttpError(400, "VALIDATION", e.message.replaceAll(`\`${where}.`, "`"), { field });
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Query parameters as an object of strings for the route's schema, and
 * repeated ones joined with commas (`?status=failed&status=dead`).
 */
function queryObject(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = key in out ? `${out[key]},${value}` : value;
  return out;
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  send(req, res, status, JSON.stringify(body), "application/json; charset=utf-8", headers);
}

/** Bytes with the headers the route chose (the dashboard's page and files: their own caching). */
function sendBytes(req: IncomingMessage, res: ServerResponse, status: number, bytes: Buffer, headers: Readonly<Record<string, string>>): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (status !== 304) res.setHeader("Content-Length", bytes.length);
  res.end(req.method === "HEAD" || status === 304 ? undefined : bytes);
}

function send(req: IncomingMessage, res: ServerResponse, status: number, text: string, contentType: string, headers: Readonly<Record<string, string>>): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const buffer = Buffer.from(text, "utf8");
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader("Content-Type", contentType);
  res.setHeader("Content-Length", buffer.length);
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Content-Type-Options", "nosniff");
  // A body left unread (refused before or while reading it) must not be
  // parsed as the next request, nor read to its end: close the connection.
  if (!req.readableEnded && !req.complete) res.setHeader("Connection", "close");
  res.end(req.method === "HEAD" ? undefined : buffer);
}
