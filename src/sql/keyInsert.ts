import { KEY_COLUMNS, type KeyRow } from "./keyRow.js";
import { query } from "./query.js";

/**
 * Stores a new key by the SHA-256 of its text. A key with a rate limit starts
 * with a full bucket.
 */
export const keyInsert = query<
  { name: string; hash: Buffer; queues: string[] | null; readOnly: boolean; rateLimit: number | null; ratePeriodMs: number | null },
  KeyRow
>(
  "keyInsert",
  (s) => `INSERT INTO ${s}.api_keys (name, hash, queues, read_only, rate_limit, rate_period_ms, tokens, tokens_at)
VALUES ($1, $2, $3::text[], $4, $5::int, $6::int, $5::int, CASE WHEN $5::int IS NULL THEN NULL ELSE now() END)
RETURNING ${KEY_COLUMNS}`,
  (p) => [p.name, p.hash, p.queues, p.readOnly, p.rateLimit, p.ratePeriodMs],
);
