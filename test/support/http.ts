import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Queue } from "../../src/index.js";
import { createHandler, type HandlerOptions } from "../../src/http/index.js";

/** A `node:http` server running the API on a free port. */
export interface ApiServer {
  readonly url: string;
  readonly server: Server;
  /** Errors the handler reported as unexpected (answered 500). */
  readonly unexpected: unknown[];
  close(): Promise<void>;
}

export async function startApi(queue: Queue, options: Omit<HandlerOptions, "queue"> = {}): Promise<ApiServer> {
  const unexpected: unknown[] = [];
  const handler = createHandler({ queue, onError: (e) => unexpected.push(e), ...options });
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${options.basePath ?? ""}`,
    server,
    unexpected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A response, its body parsed as JSON when it is JSON. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

export interface RequestOptions {
  key?: string;
  body?: unknown;
  /** A body sent as it is (not JSON-encoded). */
  raw?: string;
  headers?: Record<string, string>;
}

/** One request with fetch: `body` goes as JSON, `key` as a Bearer token. */
export async function call(base: string, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(base + path, { method, headers, body });
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  return { status: response.status, headers: response.headers, body: type.startsWith("application/json") ? JSON.parse(text) : text };
}
