import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { ConfigError } from "../errors.js";
import { connectionSchemaShape, intSchema, MAX_INT } from "../options.js";
import { Queue } from "../queue.js";
import { parse } from "../validate.js";
import { createHandler } from "./handler.js";

/** Options for `serve`. */
export interface ServeOptions {
  /** A PostgreSQL connection string. @default process.env.DATABASE_URL */
  connectionString?: string;
  /** The schema djps was migrated into. @default "djps" */
  schema?: string;
  /** The TCP port to listen on. @default 8080 (0: any free port) */
  port?: number;
  /** The address to listen on. @default "127.0.0.1" */
  host?: string;
  /** Require API keys. `false` only on a loopback address unless `force`. @default true */
  auth?: boolean;
  /** Serve without keys on a non-loopback address anyway. @default false */
  force?: boolean;
  /** Mount the API under this path. @default "" */
  basePath?: string;
  /** Connections in the server's pool. @default 10 */
  poolSize?: number;
  /** The largest request body, in bytes (see `createHandler`). @default the Queue's `maxPayloadBytes` + 64 KiB */
  maxBodyBytes?: number;
  /** The whole body must arrive within this many ms, or the request gets 408 (see `createHandler`). @default 10000 */
  bodyTimeoutMs?: number;
  /** Serve the dashboard at the base path (see `createHandler`). @default true */
  dashboard?: boolean;
  /** Called with each unexpected error. */
  onError?: (error: unknown) => void;
}

/** A running server. */
export interface Serving {
  /** The listening `node:http` server. */
  readonly server: Server;
  /** Where the API answers, e.g. `http://127.0.0.1:8080` (with the base path, if any). */
  readonly url: string;
  /**
   * Graceful shutdown: stop accepting connections, let the requests in
   * flight finish (cut off after `timeoutMs`, default 10000 ms), then close
   * the pool. Safe to call twice.
   */
  close(timeoutMs?: number): Promise<void>;
}

const serveOptionsSchema = z.strictObject(
  {
    connectionString: connectionSchemaShape.connectionString,
    schema: connectionSchemaShape.schema,
    port: intSchema(0, 65535).optional(),
    host: z.string({ error: "a host name or IP address" }).min(1, { error: "a host name or IP address" }).optional(),
    auth: z.boolean({ error: "a boolean" }).optional(),
    force: z.boolean({ error: "a boolean" }).optional(),
    basePath: z.string({ error: "a path like `/djps`" }).optional(),
    poolSize: intSchema(1, 1000).optional(),
    maxBodyBytes: intSchema(1, MAX_INT).optional(),
    bodyTimeoutMs: intSchema(1, MAX_INT).optional(),
    dashboard: z.boolean({ error: "a boolean" }).optional(),
    onError: z.custom<(error: unknown) => void>((v) => typeof v === "function", { error: "a function" }).optional(),
  },
  { error: "an options object" },
);

/** Does `host` only accept connections from this machine? */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Runs the HTTP API standalone: a Queue on the database, the handler, a
 * `node:http` server. What `djps serve` runs. Resolves once the server
 * listens.
 * @throws {@link index.ValidationError} for invalid options.
 * @throws {@link index.ConfigError} for `auth: false` on an address other machines
 *   can reach (without `force`), or when no connection string is given and
 *   `DATABASE_URL` is unset.
 * @throws The server's `listen` error (e.g. `EADDRINUSE`) when the port is taken.
 * @example
 * const serving = await serve({ port: 8080 });
 * process.once("SIGTERM", () => serving.close());
 */
export async function serve(options: ServeOptions = {}): Promise<Serving> {
  const opts = parse(serveOptionsSchema, options, "options");
  const host = opts.host ?? "127.0.0.1";
  const auth = opts.auth ?? true;
  if (!auth && !isLoopback(host) && !opts.force) {
    throw new ConfigError(
      `Refusing to serve without API keys on \`${host}\`, which other machines can reach: serve on a loopback address (127.0.0.1), use keys, or force it`,
    );
  }
  const queue = new Queue({ connectionString: opts.connectionString, schema: opts.schema, poolSize: opts.poolSize ?? 10 });
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? 10_000;
  const handler = createHandler({
    queue,
    auth,
    basePath: opts.basePath,
    maxBodyBytes: opts.maxBodyBytes,
    bodyTimeoutMs,
    dashboard: opts.dashboard,
    onError: opts.onError ? (error) => opts.onError!(error) : undefined,
  });
  let stopping = false;
  // While shutting down, every answer closes its connection, those in flight
  // too: a keep-alive connection left idle would hold `server.close()` until
  // it timed out.
  const inFlight = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (stopping) res.setHeader("Connection", "close");
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
    void handler(req, res);
  });
  // Node's own limits back up the handler's: headers within 10 s, the whole
  // request a little after the body timeout (the handler answers 408 first).
  server.headersTimeout = 10_000;
  server.requestTimeout = bodyTimeoutMs + 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 8080, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await queue.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${shown}:${address.port}${opts.basePath ?? ""}`,
    close(timeoutMs = 10_000) {
      closing ??= (async () => {
        stopping = true;
        for (const res of inFlight) {
          if (!res.headersSent) res.setHeader("Connection", "close");
          // The dashboard's event streams never finish on their own: end them (the pages reconnect to another server).
          else if (String(res.getHeader("Content-Type") ?? "").startsWith("text/event-stream")) res.end();
        }
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
        try {
          await closed;
        } finally {
          clearTimeout(timer);
        }
        await queue.close();
      })();
      return closing;
    },
  };
}
