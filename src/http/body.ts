import type { IncomingMessage } from "node:http";
import { HttpError } from "./errors.js";

/** How a request body is read. */
export interface BodyLimits {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** The whole body must arrive within this many ms of the request; a slow sender is cut off. */
  timeoutMs: number;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads and parses a JSON body once. Refuses before reading what the headers
 * already tell (415 for a type that is not JSON, 413 for a declared length
 * over the limit), stops reading at the limit (413), and gives up on a body
 * that takes longer than the timeout (408). An empty body is `undefined`.
 *
 * A framework that already parsed the body (Express's `express.json()`)
 * leaves `req.body` and an ended stream: that value is taken as it is.
 */
export async function readJson(req: IncomingMessage, limits: BodyLimits): Promise<unknown> {
  const parsed = (req as { body?: unknown }).body;
  if (req.readableEnded && parsed !== undefined) return parsed;
  const declared = req.headers["content-length"];
  const length = declared === undefined ? undefined : Number(declared);
  const chunked = req.headers["transfer-encoding"] !== undefined;
  if (length === 0 || (length === undefined && !chunked)) return undefined;
  const type = req.headers["content-type"];
  if (type === undefined || !JSON_TYPE.test(type)) {
    throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", `Expected a body of type \`application/json\`, got ${type === undefined ? "no Content-Type" : `\`${type}\``}`, {
      field: "Content-Type",
    });
  }
  if (length !== undefined && length > limits.maxBytes) throw tooLarge(limits.maxBytes);
  const text = await collect(req, limits);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, "MALFORMED_JSON", `Expected the body to be JSON: ${(error as Error).message}`, { field: "body" });
  }
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "PAYLOAD_TOO_LARGE", `Expected a body of at most ${maxBytes} bytes`, { field: "body" });
}

function collect(req: IncomingMessage, limits: BodyLimits): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: HttpError | undefined, text?: string) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
      if (error) {
        // Stop reading: the rest of the body is not wanted. The handler's
        // response closes the connection (see `send`).
        req.pause();
        reject(error);
      } else resolve(text!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return finish(tooLarge(limits.maxBytes));
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined, Buffer.concat(chunks, size).toString("utf8"));
    const onError = () => finish(new HttpError(400, "BODY_ABORTED", "The request body was cut off", { field: "body" }));
    const onAborted = onError;
    const timer = setTimeout(
      () => finish(new HttpError(408, "BODY_TIMEOUT", `Expected the whole body within ${limits.timeoutMs} ms`, { field: "body" })),
      limits.timeoutMs,
    );
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}
