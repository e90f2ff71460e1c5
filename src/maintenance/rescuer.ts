import { jobRescue } from "../sql/jobRescue.js";
import { lockKey } from "../sql/lockKey.js";
import { workersPrune } from "../sql/workerPresence.js";
import type { Duty, DutyContext } from "./duty.js";

/** What one rescue pass did. */
export interface RescueResult {
  /** Jobs whose lease had passed, put back to `queued`, `failed` or `dead`. */
  count: number;
  /** Of those, the ones with no attempts left, now `dead`. */
  dead: number;
  /**
   * Of those, the ones whose handler never started (a worker held them in its
   * buffer and died): back to `queued` without spending an attempt.
   */
  released: number;
  /** The ids of all of them. */
  ids: string[];
}

/** Most rows one rescue statement touches (a pass loops while there are more). */
const BATCH = 1000;

/** A worker's row (see `workers`) not updated for this long belongs to a worker that died: it is deleted. */
export const WORKER_GONE_MS = 3_600_000;

/**
 * Crash and zombie recovery: moves `running` jobs whose lease passed back to
 * `failed` (runnable now) or to `dead`, and jobs that were claimed but never
 * started back to `queued` without spending an attempt. Every worker runs
 * this duty, at start and then every `intervalMs`; the statement takes a
 * transaction-scoped advisory lock per schema, so only one worker at a time
 * does the work. Live workers keep their leases fresh, so their jobs are
 * never taken. A pass also deletes the `workers` rows of workers not heard
 * from for an hour.
 */
export function rescueDuty(ctx: DutyContext, intervalMs: number): Duty<RescueResult> {
  const key = lockKey(`djps:rescue:${ctx.sql.schema}`);
  return {
    name: "rescue",
    doing: "rescuing expired leases",
    intervalMs,
    atStart: true,
    async runOnce() {
      const result: RescueResult = { count: 0, dead: 0, released: 0, ids: [] };
      for (;;) {
        const rows = await jobRescue(ctx.sql, { lockKey: key, limit: BATCH, channel: ctx.channel });
        for (const row of rows) {
          result.ids.push(row.id);
          if (row.status === "dead") result.dead++;
          else if (row.status === "queued") result.released++;
        }
        result.count += rows.length;
        if (rows.length < BATCH) break;
      }
      await workersPrune(ctx.sql, { olderThanMs: WORKER_GONE_MS });
      return result;
    },
    report(result) {
      if (result.count === 0) return;
      ctx.logger.warn({ count: result.count, dead: result.dead }, "rescued jobs whose lease had passed");
      ctx.emit("jobs:rescued", result);
      ctx.wake();
    },
  };
}
