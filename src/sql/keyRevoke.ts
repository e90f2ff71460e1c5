import { KEY_COLUMNS, type KeyRow } from "./keyRow.js";
import { query } from "./query.js";

/**
 * Revokes a key: it stays listed, with the time, and authenticates no more.
 * Revoking a revoked key keeps its first `revoked_at`. No row: no such key.
 */
export const keyRevoke = query<{ id: string }, KeyRow>(
  "keyRevoke",
  (s) => `UPDATE ${s}.api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${KEY_COLUMNS}`,
  (p) => [p.id],
);
