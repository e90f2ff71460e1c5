import { beforeEach, describe, expect, it } from "vitest";
import { ValidationError, type Queue } from "../src/index.js";
import { jobListDead } from "../src/sql/jobList.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";

// The dead-letter tools: list dead jobs with their errors, retry and purge
// them by filter, in batches. Dead jobs are written by SQL as a worker would
// have left them: attempts used up, an error history, finished_at set.

const HOUR = 3_600_000;

// Each test gets a schema of its own: the dead jobs of one never meet another's filters.
const bed = useTestBed("dlq", { schemaPerTest: true });
let db: TestSchema;
let queue: Queue;
beforeEach(() => void ({ db, queue } = bed));

interface Dead {
  type?: string;
  queue?: string;
  diedAgoMs?: number;
}

async function dead(jobs: Dead[]): Promise<string[]> {
  const { rows } = await db.pool.query(
    `INSERT INTO "${db.schema}".jobs (type, queue, status, attempts, max_attempts, finished_at, last_error, errors)
     SELECT t, q, 'dead', 3, 3, now() - d * interval '1 millisecond', 'boom',
            jsonb_build_array(jsonb_build_object('attempt', 3, 'at', now(), 'message', 'boom'))
     FROM unnest($1::text[], $2::text[], $3::float8[]) AS u(t, q, d)
     RETURNING id`,
    [jobs.map((j) => j.type ?? "noop"), jobs.map((j) => j.queue ?? "default"), jobs.map((j) => j.diedAgoMs ?? 0)],
  );
  return rows.map((r) => r.id);
}

async function statuses(): Promise<Record<string, number>> {
  const { rows } = await db.pool.query(`SELECT status, count(*)::int AS n FROM "${db.schema}".jobs GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe("dead-letter tools", () => {
  it("list dead jobs with their error history", async () => {
    const [id] = await dead([{ type: "send_email" }]);
    await queue.enqueue("send_email", {});
    const page = await queue.listJobs({ status: "dead" });
    expect(page.jobs).toHaveLength(1);
    expect(page.jobs[0]).toMatchObject({ id, status: "dead", lastError: "boom", errors: [{ attempt: 3, message: "boom" }] });
  });

  it("list dead jobs from the dead-jobs index, whatever plan the server caches", async () => {
    await db.pool.query(
      `INSERT INTO "${db.schema}".jobs (type, status, finished_at) SELECT 'noop', 'succeeded', now() FROM generate_series(1, 20000)`,
    );
    // Newest first is id order (ids made in one millisecond are in random order among themselves).
    const ids = (await dead([{}, {}, {}])).sort();
    await db.pool.query(`ANALYZE "${db.schema}".jobs`);
    const page = await queue.listJobs({ status: ["dead"], limit: 2 });
    expect(page.jobs.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    expect((await queue.listJobs({ status: "dead", cursor: page.nextCursor! })).jobs.map((j) => j.id)).toEqual([ids[0]]);

    const client = await db.pool.connect();
    try {
      await client.query("SET plan_cache_mode = force_generic_plan");
      await client.query(`PREPARE dead_page(text[], text, text, uuid, int, text) AS ${jobListDead.statement(db.schema).text}`);
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE dead_page('{dead}', NULL, NULL, NULL, 51, NULL)`);
      expect(JSON.stringify(rows[0]["QUERY PLAN"])).toContain('"Index Name":"jobs_dead_idx"');
    } finally {
      await client.query("DEALLOCATE ALL; RESET plan_cache_mode");
      client.release();
    }
  });

  it("retry by type, queue and time range, and only those", async () => {
    const [emailOld, emailNew, smsNew, importsNew] = await dead([
      { type: "send_email", diedAgoMs: 5 * HOUR },
      { type: "send_email", diedAgoMs: HOUR / 2 },
      { type: "send_sms", diedAgoMs: HOUR / 2 },
      { type: "send_email", queue: "imports", diedAgoMs: HOUR / 2 },
    ]);
    const since = new Date(Date.now() - HOUR);
    expect(await queue.retryDead({ type: "send_email", queue: "default", finishedAfter: since })).toEqual({ retried: 1 });
    const job = (await queue.getJob(emailNew!))!;
    expect(job).toMatchObject({ status: "queued", attempts: 3, maxAttempts: 4, finishedAt: null, errors: [{ message: "boom" }] });
    for (const id of [emailOld, smsNew, importsNew]) expect((await queue.getJob(id!))!.status).toBe("dead");

    expect(await queue.retryDead({ finishedBefore: since })).toEqual({ retried: 1 });
    expect((await queue.getJob(emailOld!))!.status).toBe("queued");
    expect(await queue.retryDead({ queue: "imports" })).toEqual({ retried: 1 });
    expect(await queue.retryDead({ all: true })).toEqual({ retried: 1 });
    expect(await statuses()).toEqual({ queued: 4 });
    expect(await queue.retryDead({ all: true })).toEqual({ retried: 0 });
  });

  it("purge by filter, in batches", async () => {
    await dead(Array.from({ length: 2_300 }, (_, i) => ({ type: i % 2 ? "a" : "b" })));
    const [keep] = await dead([{ type: "a", queue: "other" }]);
    expect(await queue.purgeDead({ type: "a", queue: "default" })).toEqual({ purged: 1_150 });
    expect(await statuses()).toEqual({ dead: 1_151 });
    expect(await queue.purgeDead({ all: true })).toEqual({ purged: 1_151 });
    expect(await queue.getJob(keep!)).toBeNull();
  });

  it("retry and purge one group: the jobs that died with the same last error", async () => {
    const ids = await dead([{ type: "a" }, { type: "a" }, { type: "a" }]);
    await db.pool.query(`UPDATE "${db.schema}".jobs SET last_error = 'other' WHERE id = $1`, [ids[2]]);
    expect(await queue.retryDead({ type: "a", lastError: "boom" })).toEqual({ retried: 2 });
    expect(await statuses()).toEqual({ queued: 2, dead: 1 });
    expect(await queue.purgeDead({ lastError: "nothing like it" })).toEqual({ purged: 0 });
    expect(await queue.purgeDead({ lastError: "other" })).toEqual({ purged: 1 });
    expect(await statuses()).toEqual({ queued: 2 });
  });

  it("refuse an empty or bad filter before any SQL", async () => {
    await dead([{}]);
    for (const filter of [{}, { all: false }, undefined, null, { status: "dead" }, { type: "" }, { finishedAfter: "yesterday" }, { finishedBefore: new Date(NaN) }, { lastError: 1 }]) {
      await expect(queue.purgeDead(filter as never)).rejects.toThrow(ValidationError);
      await expect(queue.retryDead(filter as never)).rejects.toThrow(ValidationError);
    }
    await expect(queue.purgeDead({})).rejects.toThrow(/`filter`.*all: true/);
    await expect(queue.retryDead({ finishedAfter: "yesterday" as never })).rejects.toThrow(/`filter\.finishedAfter`/);
    expect(await statuses()).toEqual({ dead: 1 });
  });

  it("retry each job once when callers race, and purge never takes a retried job", async () => {
    const n = 3_000;
    await dead(Array.from({ length: n }, () => ({})));
    const [a, b] = await Promise.all([queue.retryDead({ all: true }), queue.retryDead({ type: "noop" })]);
    expect(a.retried + b.retried).toBe(n);
    const { rows } = await db.pool.query(`SELECT max_attempts, count(*)::int AS n FROM "${db.schema}".jobs GROUP BY 1`);
    expect(rows).toEqual([{ max_attempts: 4, n }]);

    // Back to dead, then a retry and a purge race: every job is taken by exactly one.
    await db.pool.query(`UPDATE "${db.schema}".jobs SET status = 'dead', finished_at = now()`);
    const [retried, purged] = await Promise.all([queue.retryDead({ all: true }), queue.purgeDead({ all: true })]);
    expect(retried.retried + purged.purged).toBe(n);
    expect(await statuses()).toEqual(retried.retried > 0 ? { queued: retried.retried } : {});
  });

  it("wake idle workers, which run the retried jobs", async () => {
    const ids = await dead(Array.from({ length: 50 }, () => ({ type: "flaky" })));
    const ran: string[] = [];
    // A long poll: only the NOTIFY of the retry can wake this worker in time.
    const worker = bed.worker({ flaky: async (_payload, ctx) => void ran.push(ctx.job.id) }, { pollIntervalMs: 600_000 });
    const listening = new Promise<void>((resolve) => worker.once("worker:listening", () => resolve()));
    await worker.start();
    await listening;
    expect(await queue.retryDead({ type: "flaky" })).toEqual({ retried: 50 });
    await waitFor(async () => (await statuses()).succeeded === 50, "the retried jobs to succeed");
    expect(ran.sort()).toEqual([...ids].sort());
  });
});
