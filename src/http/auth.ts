import type { IncomingMessage } from "node:http";
import { timingSafeEqual } from "node:crypto";
import type pg from "pg";
import { runner } from "../db.js";
import { keyAuthenticate } from "../sql/keyAuthenticate.js";
import type { Sql } from "../sql/query.js";
import { HttpError } from "./errors.js";
import { KEY_PREFIX, keyHash } from "./keys.js";

/** Who is asking: a key's scope, or everyone when the API runs without keys. */
export interface Principal {
  /** The key's id; `null` without keys. */
  keyId: string | null;
  /** The queues it may see and act on; `null`: every queue. */
  queues: readonly string[] | null;
  readOnly: boolean;
}

/** Every queue, read and write: the principal of an API served without keys. */
export const OPEN: Principal = Object.freeze({ keyId: null, queues: null, readOnly: false });

/** The longest text taken as a key: anything longer is refused without a database look-up. */
const MAX_KEY_LENGTH = 200;

const unauthorized = (message: string) =>
  new HttpError(401, "UNAUTHORIZED", message, { field: "Authorization", headers: { "WWW-Authenticate": 'Bearer realm="djps"' } });

/**
 * Resolves a request's `Authorization: Bearer <key>` to its key, taking one
 * token from the key's rate limit on the way, in one statement
 * (`keyAuthenticate`). Throws 401 for a missing, unknown or revoked key and
 * 429 with `Retry-After` when its bucket is empty.
 */
export class Authenticator {
  readonly #sql: Sql;

  constructor(pool: pg.Pool, schema: string) {
    this.#sql = { schema, run: runner(pool, true) };
  }

  async authenticate(req: IncomingMessage): Promise<Principal> {
    const header = req.headers.authorization;
    if (header === undefined) throw unauthorized("Expected an `Authorization: Bearer <key>` header");
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) throw unauthorized("Expected the `Authorization` header to be `Bearer <key>`");
    const key = match[1]!;
    if (!key.startsWith(KEY_PREFIX) || key.length > MAX_KEY_LENGTH) throw unauthorized("Unknown or revoked API key");
    const hash = keyHash(key);
    const [row] = await keyAuthenticate(this.#sql, { hash });
    // The look-up went by hash, which a caller cannot steer byte by byte; the
    // comparison here is in constant time all the same.
    if (!row || row.revoked || !timingSafeEqual(row.hash, hash)) throw unauthorized("Unknown or revoked API key");
    if (!row.allowed) {
      const seconds = Math.max(1, Math.ceil((row.retry_ms ?? 1000) / 1000));
      throw new HttpError(429, "RATE_LIMITED", `This key's rate limit is used up; try again in ${seconds} s`, { headers: { "Retry-After": String(seconds) } });
    }
    return { keyId: row.id, queues: row.queues, readOnly: row.read_only };
  }
}
