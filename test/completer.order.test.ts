import pg from "pg";
import { describe, expect, it } from "vitest";
import { runner } from "../src/db.js";
import { isClaimedJob, jobClaim } from "../src/sql/jobClaim.js";
import { jobFromRow } from "../src/sql/jobRow.js";
import type { Sql } from "../src/sql/query.js";
import type { Job } from "../src/types.js";
import { completeWriter, startWriter } from "../src/worker/completer.js";
import { useTestBed } from "./support/bed.js";
import { waitFor } from "./support/db.js";

const bed = useTestBed("co");
const BATCH = 40;

/** Backends of this test's database waiting for a row lock. */
async function waitingOnLocks(): Promise<number> {
  const { rows } = await bed.db.pool.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return rows[0].n;
}

/** A connection of its own under a plan cache mode, as a statement runner. */
async function connection(mode: string): Promise<{ sql: Sql; client: pg.Client }> {
  const client = new pg.Client({ connectionString: bed.db.url });
  await client.connect();
  await client.query(`SET plan_cache_mode = ${mode}`);
  return { client, sql: { schema: bed.db.schema, run: runner(client, true) } };
}

describe("batch writes of one worker that share jobs", () => {
  // A worker writes start marks, heartbeats and outcomes on different
  // connections at once, and the same job can be in two of those batches,
  // each in the order its jobs came (started, finished). A statement locks
  // its rows in the order its join yields them, which, depending on the plan,
  // is the order of the ids it was given: unless every batch goes in id
  // order, two writes can each hold a row the other waits for.
  for (const mode of ["force_custom_plan", "force_generic_plan"]) {
    it(`lock their rows in id order, so they wait on each other without a deadlock (${mode})`, async () => {
      const { db, queue } = bed;
      const type = `order_${mode}`;
      await queue.enqueueMany(Array.from({ length: BATCH }, (_, i) => ({ type, payload: i })));
      // A table with statistics, as a busy worker's is.
      await queue.enqueueMany(Array.from({ length: 3000 }, (_, i) => ({ type: "other", payload: i })));
      await db.pool.query(`ANALYZE "${db.schema}".jobs`);
      const pooled = { schema: db.schema, run: runner(db.pool, true) };
      const claimed = (await jobClaim(pooled, { queues: null, types: [type], limit: BATCH, start: BATCH, workerId: "w", leaseMs: 30_000, holdMs: 30_000 })).filter(isClaimedJob).map(jobFromRow);
      const ascending = [...claimed].sort((a, b) => (a.id < b.id ? -1 : 1));
      const batch = (jobs: Job[]) => jobs.map((job) => ({ job, data: null }));

      const [marker, completer] = [await connection(mode), await connection(mode)];
      // Plan caches settle after five runs: warm both statements on rows of no one.
      const nobody = batch(ascending.map((j) => ({ ...j, attempts: 0 })));
      for (let i = 0; i < 6; i++) {
        await startWriter(marker.sql, "w", 30_000).write(nobody, false);
        await completeWriter(completer.sql, "w").write(nobody, false);
      }
      const holder = await db.pool.connect();
      try {
        // Someone holds the lowest row, so the writes queue behind it.
        await holder.query("BEGIN");
        await holder.query(`SELECT 1 FROM "${db.schema}".jobs WHERE id = $1 FOR UPDATE`, [ascending[0]!.id]);
        // First in line: start marks of every job, in the order they started.
        const marks = startWriter(marker.sql, "w", 30_000).write(batch(ascending), false);
        await waitFor(async () => (await waitingOnLocks()) === 1, "the start marks to wait for the lowest row");
        // Then their completions, in the order they finished: the other way round.
        const completes = completeWriter(completer.sql, "w").write(batch([...ascending].reverse()), false);
        await waitFor(async () => (await waitingOnLocks()) === 2, "the completions to wait too");
        await holder.query("COMMIT");
        const [marked, completed] = await Promise.all([marks, completes]);
        expect(marked.size).toBe(BATCH);
        expect(completed.size).toBe(BATCH);
      } finally {
        await holder.query("ROLLBACK").catch(() => {});
        holder.release();
        await Promise.all([marker.client.end(), completer.client.end()]);
      }
    });
  }
});
