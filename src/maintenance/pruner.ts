import { jobPrune } from "../sql/jobPrune.js";
import { lockKey } from "../sql/lockKey.js";
import type { Sql } from "../sql/query.js";
import { walkBatches } from "../sql/batches.js";
import type { Duty, DutyContext } from "./duty.js";

/** How long finished jobs are kept, by status, in milliseconds; `false` keeps them forever. */
export interface RetentionAges {
  /** Age after which succeeded jobs are deleted, in ms, or `false` to keep them. */
  succeededMs: number | false;
  /** Age after which dead jobs are deleted, in ms, or `false` to keep them. */
  deadMs: number | false;
  /** Age after which canceled jobs are deleted, in ms, or `false` to keep them. */
  canceledMs: number | false;
}

/** Jobs deleted by a prune, by status. */
export interface PruneResult {
  /** All of them. */
  deleted: number;
  /** Of those, `succeeded` jobs. */
  succeeded: number;
  /** Of those, `dead` jobs. */
  dead: number;
  /** Of those, `canceled` jobs. */
  canceled: number;
}

// `RetentionAges` is not exported, so `@inlineType` shows its fields in the API docs.
/**
 * Succeeded jobs are kept 3 days; dead and canceled ones, which someone may want to inspect, 14 days.
 * @inlineType RetentionAges
 */
export const DEFAULT_RETENTION: Readonly<RetentionAges> = Object.freeze({
  succeededMs: 3 * 24 * 3_600_000,
  deadMs: 14 * 24 * 3_600_000,
  canceledMs: 14 * 24 * 3_600_000,
});

/** Rows one prune statement deletes: one short transaction each. */
export const PRUNE_BATCH = 1000;

/** Whether these ages keep every job (nothing to prune). */
export const keepsAll = (ages: RetentionAges): boolean => ages.succeededMs === false && ages.deadMs === false && ages.canceledMs === false;

/**
 * Deletes finished jobs older than their retention age, a batch at a time,
 * walking the primary key from its oldest end (see `jobPrune`). With
 * `lockKey`, each batch runs only if it wins the schema's prune lock, so among
 * many workers one prunes at a time and the others return at once.
 */
export async function prune(
  sql: Sql,
  ages: RetentionAges,
  options: { lockKey?: number | undefined; stopped?: () => boolean } = {},
): Promise<PruneResult> {
  const age = (ms: number | false) => (ms === false ? null : ms);
  const batches = await walkBatches(
    async (after) => {
      const [row] = await jobPrune(sql, {
        lockKey: options.lockKey ?? null,
        after,
        succeededMs: age(ages.succeededMs),
        deadMs: age(ages.deadMs),
        canceledMs: age(ages.canceledMs),
        limit: PRUNE_BATCH,
      });
      return { ...row!, count: row!.succeeded + row!.dead + row!.canceled };
    },
    PRUNE_BATCH,
    options.stopped,
  );
  const result: PruneResult = { deleted: 0, succeeded: 0, dead: 0, canceled: 0 };
  for (const row of batches) {
    result.deleted += row.count;
    result.succeeded += row.succeeded;
    result.dead += row.dead;
    result.canceled += row.canceled;
  }
  return result;
}

/**
 * The retention duty: every worker runs it every `intervalMs`; the advisory
 * lock keeps the work to one of them at a time. Interrupted, a pass ends
 * after its current batch.
 */
export function pruneDuty(ctx: DutyContext, ages: RetentionAges, intervalMs: number): Duty<PruneResult> {
  const key = lockKey(`djps:prune:${ctx.sql.schema}`);
  let stopped = false;
  return {
    name: "prune",
    doing: "deleting finished jobs",
    intervalMs,
    atStart: false,
    runOnce: () => prune(ctx.sql, ages, { lockKey: key, stopped: () => stopped }),
    report(result) {
      if (result.deleted === 0) return;
      ctx.logger.info({ ...result }, "deleted finished jobs past their retention age");
      ctx.emit("jobs:pruned", result);
    },
    interrupt() {
      stopped = true;
    },
  };
}
