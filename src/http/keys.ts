import { createHash, randomBytes } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { runner } from "../db.js";
import { DjpsError } from "../errors.js";
import { intSchema, MAX_INT, nameSchema } from "../options.js";
import { keyInsert } from "../sql/keyInsert.js";
import { keyList } from "../sql/keyList.js";
import { keyRevoke } from "../sql/keyRevoke.js";
import type { KeyRow } from "../sql/keyRow.js";
import type { Sql } from "../sql/query.js";
import { parse } from "../validate.js";

/** Where keys live: a Queue's pool and schema (any `Queue` will do). */
export interface KeyStore {
  /** The pool to run the statements on. */
  readonly pool: pg.Pool;
  /** The schema djps was migrated into. */
  readonly schema: string;
}

/** A key's rate limit: at most `limit` requests in a burst, refilled at `limit` per `periodMs`. */
export interface RateLimit {
  /** Requests allowed in a burst, and refilled per `periodMs`. */
  limit: number;
  /** The refill period, in ms. */
  periodMs: number;
}

/** An API key as listed: everything but its secret, which is never stored. */
export interface ApiKey {
  /** The key's id (a UUID), for `revokeKey`; not the secret. */
  id: string;
  /** Its label for people. */
  name: string;
  /** The queues it may see and act on; `null`: every queue. */
  queues: string[] | null;
  /** May only read (GET), never enqueue or change anything. */
  readOnly: boolean;
  /** Its token bucket, or `null` for no limit. */
  rate: RateLimit | null;
  /** When it was created. */
  createdAt: Date;
  /** When it was revoked; `null` while it works. */
  revokedAt: Date | null;
}

/** What `createKey` returns: the key's record and, this once, the key itself. */
export interface CreatedKey extends ApiKey {
  /** The secret to send as `Authorization: Bearer <key>`. It is stored only as a hash: keep it now. */
  key: string;
}

/** Options for `createKey`. */
export interface CreateKeyOptions {
  /** A label for people (`djps keys list` shows it). */
  name: string;
  /** Scope the key to these queues. @default every queue */
  queues?: string[];
  /** Only GET requests. @default false */
  readOnly?: boolean;
  /**
   * A token bucket: `{ limit: 100, periodMs: 1000 }` or `"100/1s"` (units ms, s, m, h, d).
   * @default no limit
   */
  rate?: RateLimit | string;
}

/** No API key has the given id. Code `KEY_NOT_FOUND`. */
export class KeyNotFoundError extends DjpsError {
  /** The id that was asked for. */
  readonly keyId: string;
  constructor(keyId: string) {
    super("KEY_NOT_FOUND", `No API key with id \`${keyId}\``);
    this.keyId = keyId;
  }
}

/** The text every key starts with, so a leaked one is easy to recognise (and to scan for). */
export const KEY_PREFIX = "djps_";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const RATE_TEXT = "a rate like `100/1s` or `{ limit, periodMs }` (a limit from 1, a period from 1 ms to 24 days)";
const rateObjectSchema = z.strictObject(
  { limit: intSchema(1, MAX_INT), periodMs: intSchema(1, MAX_INT) },
  { error: RATE_TEXT },
);
const rateSchema = z.union(
  [
    rateObjectSchema,
    z.string().transform((text, ctx) => {
      const m = /^\s*(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h|d)\s*$/.exec(text);
      const rate = m ? { limit: Number(m[1]), periodMs: Number(m[2] || 1) * UNITS[m[3]!]! } : undefined;
      if (!rate || !rateObjectSchema.safeParse(rate).success) {
        ctx.addIssue({ code: "custom", message: RATE_TEXT });
        return z.NEVER;
      }
      return rate;
    }),
  ],
  { error: RATE_TEXT },
);

const createKeySchema = z.strictObject(
  {
    name: z.string({ error: "a name of 1 to 200 characters" }).min(1, { error: "a name of 1 to 200 characters" }).max(200, { error: "a name of 1 to 200 characters" }),
    queues: z.array(nameSchema, { error: "an array of queue names" }).min(1, { error: "a non-empty array of queue names (leave it out for every queue)" }).optional(),
    readOnly: z.boolean({ error: "a boolean" }).optional(),
    rate: rateSchema.optional(),
  },
  { error: "an options object { name, queues, readOnly, rate }" },
);

const KEY_ID_TEXT = "an API key id (a UUID string)";
export const keyIdSchema = z
  .string({ error: KEY_ID_TEXT })
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { error: KEY_ID_TEXT });

/** The SHA-256 of a key's text: what is stored and looked up. */
export function keyHash(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

function sqlOf(store: KeyStore): Sql {
  return { schema: store.schema, run: runner(store.pool, true) };
}

function keyFromRow(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    queues: row.queues,
    readOnly: row.read_only,
    rate: row.rate_limit === null || row.rate_period_ms === null ? null : { limit: row.rate_limit, periodMs: row.rate_period_ms },
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/**
 * Creates an API key for the HTTP API and returns it with its secret, which
 * is shown this once: only its SHA-256 is stored.
 * @param store Where keys live: any `Queue` (its pool and schema).
 * @throws {@link index.ValidationError} for invalid options (e.g. a bad `rate`).
 * @example
 * const { id, key } = await createKey(queue, { name: "billing-service", queues: ["billing"], rate: "100/1s" });
 */
export async function createKey(store: KeyStore, options: CreateKeyOptions): Promise<CreatedKey> {
  const opts = parse(createKeySchema, options, "options");
  // 256 random bits: unguessable, so a fast hash of it is as good as a slow one.
  const key = KEY_PREFIX + randomBytes(32).toString("base64url");
  const queues = opts.queues ? [...new Set(opts.queues)].sort() : null;
  const [row] = await keyInsert(sqlOf(store), {
    name: opts.name,
    hash: keyHash(key),
    queues,
    readOnly: opts.readOnly ?? false,
    rateLimit: opts.rate?.limit ?? null,
    ratePeriodMs: opts.rate?.periodMs ?? null,
  });
  return { ...keyFromRow(row!), key };
}

/** Every API key, revoked ones too, oldest first. Secrets are not stored, so none is shown. */
export async function listKeys(store: KeyStore): Promise<ApiKey[]> {
  return (await keyList(sqlOf(store))).map(keyFromRow);
}

/**
 * Revokes a key: from now on it gets 401. It stays listed, with the time.
 * @throws {@link index.ValidationError} when `id` is not a UUID.
 * @throws {@link KeyNotFoundError} for an unknown id.
 * @example await revokeKey(queue, id);
 */
export async function revokeKey(store: KeyStore, id: string): Promise<ApiKey> {
  const keyId = parse(keyIdSchema, id, "id");
  const [row] = await keyRevoke(sqlOf(store), { id: keyId });
  if (!row) throw new KeyNotFoundError(keyId);
  return keyFromRow(row);
}
