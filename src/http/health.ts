import type pg from "pg";
import { assertSchemaVersion } from "../schema-version.js";
import { HttpError } from "./errors.js";

/** A health check that does not answer in this long counts as a failure. */
export const HEALTH_TIMEOUT_MS = 5_000;

/**
 * Resolves when the database answers and its schema is at the version this
 * code needs; else throws a 503 that says which of the two failed and
 * nothing more (the endpoint needs no key, so it reveals no names, versions
 * or addresses).
 */
export async function checkHealth(queue: { readonly pool: pg.Pool; readonly schema: string }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("health check timed out"), { code: "ETIMEDOUT" })), HEALTH_TIMEOUT_MS);
  });
  try {
    await Promise.race([assertSchemaVersion(queue.pool, queue.schema), timeout]);
  } catch (error) {
    const schema = (error as { code?: unknown }).code === "CONFIG";
    throw new HttpError(503, "UNAVAILABLE", schema ? "The database schema is not at the version this server needs" : "The database is unreachable", {
      headers: { "Retry-After": "5" },
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
