import type { Statement } from "../db.js";
import { lockKey } from "../sql/lockKey.js";
import { walkBatches } from "./batches.js";

/** How long finished jobs are kept, by status, in milliseconds; `false` keeps them forever. */
export interface RetentionAges {
  succeededMs: number | false;
  deadMs: number | false;
  canceledMs: number | false;
}

/** Jobs deleted by a prune, by status. */
export interface PruneResult {
  /** All of them. */
  deleted: number;
  succeeded: number;
  dead: number;
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

type RunSql = (sql: Statement, values: unknown[]) => Promise<any[]>;

/**
 * Deletes finished jobs older than their retention age, a batch at a time,
 * walking the primary key from its oldest end (see `jobPrune`). With
 * `lockKey`, each batch runs only if it wins the schema's prune lock, so among
 * many workers one prunes at a time and the others return at once.
 */
export async function prune(
  run: RunSql,
  sql: Statement,
  ages: RetentionAges,
  options: { lockKey?: number | undefined; stopped?: () => boolean } = {},
): Promise<PruneResult> {
  const age = (ms: number | false) => (ms === false ? null : ms);
  const batches = await walkBatches(
    async (after) => {
      const [row] = await run(sql, [options.lockKey ?? null, after, age(ages.succeededMs), age(ages.deadMs), age(ages.canceledMs), PRUNE_BATCH]);
      return { ...row, count: row.succeeded + row.dead + row.canceled };
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
 * The worker's retention duty: every worker runs it; the advisory lock keeps
 * the work to one of them at a time.
 */
export class Pruner {
  readonly #run: RunSql;
  readonly #sql: Statement;
  readonly #ages: RetentionAges;
  readonly #key: number;
  #stopped = false;

  constructor(run: RunSql, sql: Statement, schema: string, ages: RetentionAges) {
    this.#run = run;
    this.#sql = sql;
    this.#ages = ages;
    this.#key = lockKey(`djps:prune:${schema}`);
  }

  /** One pass: deletes every finished job past its age, in batches, until none are left or `stop()` is called. */
  runOnce(): Promise<PruneResult> {
    return prune(this.#run, this.#sql, this.#ages, { lockKey: this.#key, stopped: () => this.#stopped });
  }

  /** Ends a pass in progress after its current batch. */
  stop(): void {
    this.#stopped = true;
  }
}
