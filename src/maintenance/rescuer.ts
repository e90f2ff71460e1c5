import type { Statement } from "../db.js";
import { lockKey } from "../sql/lockKey.js";

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
  ids: string[];
}

/** Most rows one rescue statement touches (it loops while there are more). */
const BATCH = 1000;

/**
 * Crash and zombie recovery: moves `running` jobs whose lease passed back to
 * `failed` (runnable now) or to `dead`, and jobs that were claimed but never
 * started back to `queued` without spending an attempt. Every worker runs this loop; the
 * statement takes a transaction-scoped advisory lock per schema, so only one
 * worker at a time does the work. Live workers keep their leases fresh, so
 * their jobs are never taken.
 */
export class Rescuer {
  readonly #run: (sql: Statement, values: unknown[]) => Promise<any[]>;
  readonly #sql: Statement;
  readonly #key: number;
  readonly #channel: string;

  constructor(run: (sql: Statement, values: unknown[]) => Promise<any[]>, sql: Statement, schema: string, channel: string) {
    this.#run = run;
    this.#sql = sql;
    this.#key = lockKey(`djps:rescue:${schema}`);
    this.#channel = channel;
  }

  /** One pass: rescues every expired lease (in batches). Tests call this directly. */
  async runOnce(): Promise<RescueResult> {
    const result: RescueResult = { count: 0, dead: 0, released: 0, ids: [] };
    for (;;) {
      const rows = await this.#run(this.#sql, [this.#key, BATCH, this.#channel]);
      for (const row of rows) {
        result.ids.push(row.id);
        if (row.status === "dead") result.dead++;
        else if (row.status === "queued") result.released++;
      }
      result.count += rows.length;
      if (rows.length < BATCH) return result;
    }
  }
}
