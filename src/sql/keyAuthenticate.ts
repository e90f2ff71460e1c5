import { query } from "./query.js";

/** What a request learns about its key. */
export interface KeyAuthRow {
  id: string;
  hash: Buffer;
  queues: string[] | null;
  read_only: boolean;
  revoked: boolean;
  /** False when the key's bucket had no whole token left: answer 429. */
  allowed: boolean;
  /** When refused: how long until the bucket holds a token again, in ms. */
  retry_ms: number | null;
}

/**
 * The bucket's tokens now: what it held, plus the refill since it was last
 * written (never negative time: a statement that started earlier than the
 * last writer may run after it), at most `rate_limit`.
 */
const available = (k: string) =>
  `least(${k}.rate_limit::float8, ${k}.tokens + greatest(0, extract(epoch FROM now() - ${k}.tokens_at) * 1000) * ${k}.rate_limit / ${k}.rate_period_ms)`;

/**
 * Finds a key by the SHA-256 of its text and, for a key with a rate limit,
 * takes one token from its bucket, in one statement: a request costs one
 * round trip whether or not its key is limited.
 *
 * A key without a limit is only read (the UPDATE's WHERE drops it), so it
 * writes nothing. A limited key's row is updated only when a whole token is
 * there: a refused request writes nothing either. Two servers taking from the
 * same bucket at once serialise on the row lock; the second re-checks its
 * WHERE and recomputes the tokens against the row the first wrote (READ
 * COMMITTED's re-check of an updated row), so no token is spent twice and the
 * bucket never holds more than `rate_limit`: the worst burst is the limit.
 *
 * `retry_ms` is read from the row as this statement's snapshot saw it: a hint
 * for Retry-After, not a promise.
 */
export const keyAuthenticate = query<{ hash: Buffer }, KeyAuthRow>(
  "keyAuthenticate",
  (s) => `WITH found AS (
  SELECT id, hash, queues, read_only, revoked_at, rate_limit, rate_period_ms, tokens, tokens_at
  FROM ${s}.api_keys WHERE hash = $1
), spent AS (
  UPDATE ${s}.api_keys k
  SET tokens = ${available("k")} - 1, tokens_at = greatest(k.tokens_at, now())
  FROM found f
  WHERE k.id = f.id AND f.revoked_at IS NULL AND k.rate_limit IS NOT NULL AND ${available("k")} >= 1
  RETURNING k.id
)
SELECT f.id, f.hash, f.queues, f.read_only, f.revoked_at IS NOT NULL AS revoked,
  (f.rate_limit IS NULL OR EXISTS (SELECT 1 FROM spent)) AS allowed,
  CASE WHEN f.rate_limit IS NULL OR EXISTS (SELECT 1 FROM spent) THEN NULL
    ELSE ceil(greatest(1 - ${available("f")}, 0) * f.rate_period_ms / f.rate_limit)::float8 END AS retry_ms
FROM found f`,
  (p) => [p.hash],
);
