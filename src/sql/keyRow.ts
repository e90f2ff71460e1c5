/** The columns of `api_keys` that describe a key (never its hash), as `keyList` and `keyInsert` return them. */
export const KEY_COLUMNS = "id, name, queues, read_only, rate_limit, rate_period_ms, created_at, revoked_at";

/** A key as stored, without its hash and bucket state. */
export interface KeyRow {
  id: string;
  name: string;
  queues: string[] | null;
  read_only: boolean;
  rate_limit: number | null;
  rate_period_ms: number | null;
  created_at: Date;
  revoked_at: Date | null;
}
