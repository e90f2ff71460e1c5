import { query } from "./query.js";

/**
 * A number that grows whenever rows of the schema's `jobs` or `workers`
 * tables are inserted, updated or deleted: the sum of PostgreSQL's
 * cumulative statistics counters for them. Reading it costs no table access
 * (the counters live in shared memory), so a live view can ask often and read
 * the tables only when it moved. The counters lag commits by up to the
 * server's statistics flush (about a second on an active connection, up to
 * ten on one that goes idle), and a statistics reset may move it backwards:
 * callers compare for inequality, not order.
 */
export const tableChanges = query<{ schema: string }, { changes: string }>(
  "tableChanges",
  () => `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text AS changes
FROM pg_stat_user_tables
WHERE schemaname = $1::text AND relname IN ('jobs', 'workers')`,
  (p) => [p.schema],
);
