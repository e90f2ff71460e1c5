import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "../src/index.js";
import { createKey } from "../src/http/index.js";
import { useTestBed } from "./support/bed.js";
import { call, startApi, type ApiServer } from "./support/http.js";

// Request bodies: read once with a size limit and a timeout, JSON only.

const bed = useTestBed("http_body");
let api: ApiServer;
let key: string;
const MAX = 4096;

beforeAll(async () => {
  api = await startApi(bed.queue, { maxBodyBytes: MAX, bodyTimeoutMs: 300 });
  ({ key } = await createKey(bed.queue, { name: "t" }));
});
afterAll(async () => {
  expect(api.unexpected).toEqual([]);
  await api.close();
});

/** Sends raw bytes on a socket and resolves to the response text once it is whole, or the server closes. */
function raw(chunks: string[]): Promise<string> {
  const { port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    let text = "";
    socket.on("data", (d) => {
      text += d.toString("utf8");
      // A whole response (the server may keep the connection open for the next one).
      const end = text.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(text.slice(0, end));
      if (end >= 0 && length && Buffer.byteLength(text.slice(end + 4)) >= Number(length[1])) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on("error", () => resolve(text));
    socket.on("close", () => resolve(text));
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
    });
    setTimeout(() => reject(new Error(`no answer in 10 s; got: ${text}`)), 10_000).unref();
  });
}

const head = (length: number | "chunked", type = "application/json") =>
  `POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: ${type}\r\n` +
  (length === "chunked" ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${length}\r\n`) +
  "\r\n";

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4));

describe("request bodies", () => {
  it("answers 400 for malformed JSON, naming the body", async () => {
    const r = await call(api.url, "POST", "/jobs", { key, raw: '{"type": "t", payload', headers: { "content-type": "application/json" } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "MALFORMED_JSON", field: "body" });
    expect(r.body.error.message).toMatch(/^Expected the body to be JSON/);
  });

  it("answers 415 for a body that is not JSON", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const r = await call(api.url, "POST", "/jobs", { key, raw: "type=t", headers: { "content-type": type } });
      expect(r.status).toBe(415);
      expect(r.body.error).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE", field: "Content-Type" });
    }
    const none = await call(api.url, "POST", "/jobs", { key, raw: "{}" });
    expect(none.status).toBe(415);
    // A JSON type with parameters or a +json suffix is JSON.
    expect((await call(api.url, "POST", "/jobs", { key, body: { type: "t", payload: 1 }, headers: { "content-type": "application/json; charset=utf-8" } })).status).toBe(201);
    expect((await call(api.url, "POST", "/jobs", { key, body: { type: "t", payload: 2 }, headers: { "content-type": "application/vnd.api+json" } })).status).toBe(201);
  });

  it("answers 413 for a declared length over the limit, without reading it", async () => {
    const response = await raw([head(MAX + 1), "{"]);
    expect(statusOf(response)).toBe(413);
    expect(bodyOf(response).error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", field: "body" });
    expect(response.toLowerCase()).toContain("connection: close");
  });

  it("answers 413 for a chunked body that grows over the limit", async () => {
    const chunk = `{"type":"t","payload":"${"x".repeat(MAX)}"}`;
    const response = await raw([head("chunked"), `${chunk.length.toString(16)}\r\n${chunk}\r\n`]);
    expect(statusOf(response)).toBe(413);
  });

  it("cuts off a slow sender with 408", async () => {
    const body = JSON.stringify({ type: "t", payload: 1 });
    // The headers and half the body, then nothing: the rest never comes.
    const response = await raw([head(body.length), body.slice(0, 5)]);
    expect(statusOf(response)).toBe(408);
    expect(bodyOf(response).error).toMatchObject({ code: "BODY_TIMEOUT", field: "body" });
  });

  it("takes a body that fits, sent in pieces", async () => {
    const body = JSON.stringify({ type: "pieces", payload: "y".repeat(1000) });
    const response = await raw([head(body.length), body.slice(0, 10), body.slice(10)]);
    expect(statusOf(response)).toBe(201);
  });

  it("answers 400 for a missing body where one is needed", async () => {
    const r = await call(api.url, "POST", "/jobs", { key });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe("body");
  });

  it("answers 400 for a payload over the Queue's limit with the Queue's message, below the body limit", async () => {
    const small = await startApi(bed.queue, {});
    try {
      // The bed's Queue allows 1 MiB payloads; the default body limit is 64 KiB above that.
      const r = await call(small.url, "POST", "/jobs", { key, body: { type: "t", payload: "z".repeat(1024 * 1024) } });
      expect(r.status).toBe(400);
      expect(r.body.error.field).toBe("payload");
      const over = await call(small.url, "POST", "/jobs", { key, body: { type: "t", payload: "z".repeat(1024 * 1024 + 70 * 1024) } }).catch(() => ({ status: 413 }));
      expect(over.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it("takes its default body limit from the Queue's maxPayloadBytes, plus headroom", async () => {
    const queue = new Queue({ connectionString: bed.db.url, schema: bed.db.schema, maxPayloadBytes: 2000 });
    const small = await startApi(queue);
    try {
      const over = await call(small.url, "POST", "/jobs", { key, body: { type: "t", payload: "z".repeat(3000) } });
      expect(over.status).toBe(400);
      expect(over.body.error.field).toBe("payload");
      const tooBig = await call(small.url, "POST", "/jobs", { key, body: { type: "t", payload: "z".repeat(2000 + 64 * 1024) } }).catch(() => ({ status: 413 }));
      expect(tooBig.status).toBe(413);
    } finally {
      await small.close();
      await queue.close();
    }
  });
});
