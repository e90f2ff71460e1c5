import type { LimitsInput } from "./options.js";
import { queueLimitsList, queueLimitsSet } from "./sql/queueLimits.js";
import type { Sql } from "./sql/query.js";
import { limitsFromRow } from "./stats.js";
import type { QueueLimitsState } from "./types.js";

/**
 * Writes a queue's limits as `queue.setLimits()` takes them (already
 * validated): a field left out keeps its limit, null removes it, and a null
 * input removes all of them. Returns the limits after the change.
 */
export async function writeLimits(sql: Sql, channel: string, queue: string, limits: Exclude<LimitsInput, undefined>): Promise<QueueLimitsState> {
  const [row] = await queueLimitsSet(sql, {
    queue,
    setConcurrency: limits === null || limits.concurrency !== undefined,
    concurrency: limits?.concurrency ?? null,
    setRate: limits === null || limits.rate !== undefined,
    rateLimit: limits?.rate?.limit ?? null,
    rateIntervalMs: limits?.rate?.intervalMs ?? null,
    setGroup: limits === null || limits.group !== undefined,
    groupConcurrency: limits?.group?.concurrency ?? null,
    channel,
  });
  return { queue, ...limitsFromRow(row!) };
}

/** The limits of one queue, or of every limited queue (`queue` null), by name. */
export async function readLimits(sql: Sql, queue: string | null): Promise<QueueLimitsState[]> {
  const rows = await queueLimitsList(sql, { queue });
  return rows.map((row) => ({ queue: row.name, ...limitsFromRow(row) }));
}
