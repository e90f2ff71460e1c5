/**
 * `djps/http`: the optional HTTP API. Nothing here is loaded by `djps`
 * itself; import it only where you serve the API.
 *
 * @example
 * import { createHandler } from "djps/http";
 * const api = createHandler({ queue, basePath: "/djps" });
 */
export { createHandler } from "./handler.js";
export type { Handler, HandlerOptions } from "./handler.js";
export { serve, isLoopback } from "./serve.js";
export type { ServeOptions, Serving } from "./serve.js";
export { createKey, listKeys, revokeKey, KeyNotFoundError, KEY_PREFIX } from "./keys.js";
export type { ApiKey, CreatedKey, CreateKeyOptions, KeyStore, RateLimit } from "./keys.js";
export { HttpError } from "./errors.js";
export type { ErrorBody } from "./errors.js";
export { API_VERSION } from "./openapi.js";
