import { describe, expect, it } from "vitest";
import type { Handlers } from "../src/index.js";
import { waitFor } from "./support/db.js";
import { gate, jobRow, nextEvent } from "./support/worker.js";
import { useTestBed } from "./support/bed.js";
import { StatementCountingPool } from "./support/counting-pool.js";

// The buffer of claimed jobs a worker holds beyond its free slots: jobs in it
// have not started, hold a short lease of their own, and go back to the queue
// (without spending an attempt) when they wait too long for a slot, so that an
// idle worker can run them.

const bed = useTestBed("wbuf", { worker: { leaseMs: 2000, pollIntervalMs: 50 } });

/** Runs `total` no-op jobs on one worker of `concurrency` slots; returns how often each ran and the most claims out at once. */
async function drain(total: number, concurrency: number): Promise<{ runs: Map<string, number>; most: number }> {
  const pool = new StatementCountingPool(".job_claim(", { connectionString: bed.db.url, max: 8 });
  try {
    const runs = new Map<string, number>();
    const worker = bed.worker({ quick: async (_p, ctx) => void runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1) }, { concurrency, pool });
    for (let i = 0; i < total; i += 1000) {
      await bed.queue.enqueueMany(Array.from({ length: Math.min(1000, total - i) }, () => ({ type: "quick", payload: null })));
    }
    const succeeded = new Set<string>();
    worker.on("job:succeeded", ({ job }) => void succeeded.add(job.id));
    await worker.start();
    await waitFor(() => succeeded.size === total, `${total} jobs to succeed`, 60_000);
    await worker.stop();
    return { runs, most: pool.most };
  } finally {
    await pool.end();
  }
}

describe("the claim buffer", () => {
  it("marks a job started only when its handler starts, and gives buffered jobs the short hold", async () => {
    const slow = gate();
    const seen: Array<{ id: string; startedAt: Date | null }> = [];
    const worker = bed.worker(
      {
        quick: async (_payload, ctx) => {
          seen.push({ id: ctx.job.id, startedAt: ctx.job.startedAt });
        },
        slow: async () => slow.promise,
      },
      { workerId: "marker", concurrency: 1, leaseMs: 10_000 },
    );
    // Short jobs first, so the worker learns their duration and claims ahead.
    await bed.queue.enqueueMany(Array.from({ length: 30 }, () => ({ type: "quick", payload: null, options: { priority: 10 } })));
    const blocker = await bed.queue.enqueue("slow", null, { priority: 5 });
    const behind = await bed.queue.enqueueMany(Array.from({ length: 40 }, () => ({ type: "quick", payload: null })));
    await worker.start();
    // While the slow job holds the only slot, jobs claimed behind it wait unstarted.
    const waiting = await waitFor(async () => {
      // Once the 30 first jobs are written and the slow one runs, any other running job is in the buffer.
      const { rows: state } = await bed.db.pool.query(
        `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS done, bool_or(type = 'slow' AND status = 'running') AS blocked FROM "${bed.db.schema}".jobs`,
      );
      if (state[0].done !== 30 || !state[0].blocked) return undefined;
      const { rows } = await bed.db.pool.query(
        `SELECT id, started_at, extract(epoch FROM locked_until - updated_at) * 1000 AS hold_ms FROM "${bed.db.schema}".jobs
         WHERE status = 'running' AND type = 'quick' AND locked_by = 'marker'`,
      );
      return rows.length > 0 ? rows : undefined;
    }, "quick jobs claimed into the buffer behind the slow one");
    for (const row of waiting) {
      expect(row.started_at).toBeNull();
      // The short hold (5 s), not the lease (10 s here).
      expect(Number(row.hold_ms)).toBe(5000);
    }
    // The slow job may have started from the buffer: its start mark lands a
    // moment later (at most 100 ms), with the full lease.
    const running = await waitFor(async () => {
      const row = await jobRow(bed.db.pool, bed.db.schema, blocker.job.id);
      return row.started_at ? row : undefined;
    }, "the running job's start to be recorded");
    expect(running.started_at).toBeInstanceOf(Date);
    expect(running.locked_until.getTime() - running.updated_at.getTime()).toBeGreaterThan(5000);
    slow.open();
    await waitFor(async () => {
      const { rows } = await bed.db.pool.query(`SELECT count(*)::int AS n FROM "${bed.db.schema}".jobs WHERE status = 'succeeded'`);
      return rows[0].n === 71;
    }, "every job to succeed");
    // Every job the handler saw had a start time, and the table has one for each.
    expect(seen.every((s) => s.startedAt instanceof Date)).toBe(true);
    const { rows: unstarted } = await bed.db.pool.query(`SELECT count(*)::int AS n FROM "${bed.db.schema}".jobs WHERE started_at IS NULL`);
    expect(unstarted[0].n).toBe(0);
    expect(behind).toHaveLength(40);
  });

  it("puts back jobs that wait too long for a slot, unspent, so that another worker runs them", async () => {
    const slow = gate();
    const ranBy = new Map<string, string>();
    const handlers = (id: string): Handlers => ({
      quick: async (_payload, ctx) => void ranBy.set(ctx.job.id, id),
      slow: async () => slow.promise,
    });
    const busy = bed.worker(handlers("busy"), { workerId: "busy", concurrency: 1 });
    await bed.queue.enqueueMany(Array.from({ length: 30 }, () => ({ type: "quick", payload: null, options: { priority: 10 } })));
    await bed.queue.enqueue("slow", null, { priority: 5 });
    const behind = (await bed.queue.enqueueMany(Array.from({ length: 40 }, () => ({ type: "quick", payload: null })))).map((r) => r.job.id);
    await busy.start();
    // The busy worker claimed some of them behind its slow job...
    const claimed = await waitFor(async () => {
      const { rows } = await bed.db.pool.query(
        `SELECT id FROM "${bed.db.schema}".jobs WHERE id = ANY($1::uuid[]) AND status = 'running' AND locked_by = 'busy'`,
        [behind],
      );
      return rows.length > 0 ? rows.map((r) => r.id as string) : undefined;
    }, "the busy worker to hold jobs behind its slow one");
    // ...and another worker runs every one of them while the slow job still
    // holds the busy worker's only slot.
    const idle = bed.worker(handlers("idle"), { workerId: "idle", concurrency: 5 });
    const done = new Set<string>();
    idle.on("job:succeeded", ({ job }) => void done.add(job.id));
    await idle.start();
    await waitFor(() => behind.every((id) => done.has(id)), "every job behind the slow one to succeed");
    for (const id of claimed) {
      expect(ranBy.get(id)).toBe("idle");
      const row = await jobRow(bed.db.pool, bed.db.schema, id);
      // Released without an attempt spent: each release gives its claim's
      // attempt back (max_attempts grows by one), so one attempt was spent,
      // the one that ran. On a loaded machine the idle worker's own buffer may
      // hold the job past half its hold too and release it once more.
      expect(row).toMatchObject({ status: "succeeded", errors: [], locked_by: null });
      expect(row.max_attempts).toBeGreaterThanOrEqual(4);
      expect(row.attempts - (row.max_attempts - 3)).toBe(1);
    }
    const stopped = nextEvent(busy, "job:succeeded");
    slow.open();
    await stopped;
  });

  it("with a backlog of short jobs, sends the next claim before the last one lands, and runs each job once", async () => {
    const { runs, most } = await drain(3000, 10);
    expect(most).toBe(2);
    expect(runs.size).toBe(3000);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
  });

  it("a worker of one slot keeps one claim out at a time", async () => {
    const { runs, most } = await drain(1500, 1);
    expect(most).toBe(1);
    expect(runs.size).toBe(1500);
  });
});
