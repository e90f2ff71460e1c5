import type { QueueStats, QueueStatsEntry, RecentCounts, StatusCounts } from "../types.js";
import { JOB_STATUSES } from "../states.js";
import type { Principal } from "./auth.js";
import { HttpError } from "./errors.js";

/**
 * What a key's queue scope lets it see and do. A job of a queue out of scope
 * is answered as if it did not exist (404), so a key cannot learn which ids
 * another tenant holds; a queue named out of scope is refused (403).
 */

/** May this principal see and act on `queue`? */
export function inScope(principal: Principal, queue: string): boolean {
  return principal.queues === null || principal.queues.includes(queue);
}

/** Throws 403 unless `queue` is in scope; `field` names where the request named it. */
export function requireQueue(principal: Principal, queue: string, field: string): void {
  if (!inScope(principal, queue)) {
    throw new HttpError(403, "FORBIDDEN", `This key may not use queue \`${queue}\``, { field });
  }
}

/**
 * The queues a listing or a dead-letter action covers: the one asked for (if
 * in scope), else every queue in scope (`undefined`: every queue at all).
 */
export function listedQueues(principal: Principal, queue: string | undefined, field: string): readonly string[] | undefined {
  if (queue !== undefined) {
    requireQueue(principal, queue, field);
    return [queue];
  }
  return principal.queues ?? undefined;
}

/** Throws 403 for a read-only key. */
export function requireWrite(principal: Principal): void {
  if (principal.readOnly) throw new HttpError(403, "READ_ONLY", "This key is read-only");
}

const zeroRecent = (): RecentCounts => ({ succeeded: 0, failed: 0, dead: 0, canceled: 0 });

function addRecent(into: RecentCounts, from: RecentCounts): void {
  into.succeeded += from.succeeded;
  into.failed += from.failed;
  into.dead += from.dead;
  into.canceled += from.canceled;
}

/** `stats()` reduced to the queues in scope, with the totals summed again over those. */
export function scopedStats(principal: Principal, stats: QueueStats): QueueStats {
  if (principal.queues === null) return stats;
  const queues: QueueStatsEntry[] = stats.queues.filter((q) => inScope(principal, q.queue));
  const totals = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts;
  const lastMinute = zeroRecent();
  const lastHour = zeroRecent();
  let lagMs: number | null = null;
  for (const q of queues) {
    for (const s of JOB_STATUSES) totals[s] += q.counts[s];
    addRecent(lastMinute, q.lastMinute);
    addRecent(lastHour, q.lastHour);
    if (q.lagMs !== null && (lagMs === null || q.lagMs > lagMs)) lagMs = q.lagMs;
  }
  return { queues, totals, lagMs, lastMinute, lastHour };
}
