import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_RETENTION, ValidationError, type Queue, type Worker, type WorkerOptions } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";
import { nextEvent } from "./support/worker.js";

// Retention deletes finished jobs past their age, in batches, walking the
// time-ordered primary key. The rows here are written by SQL with ids and
// timestamps in the past, as a long-running system would have them.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const bed = useTestBed("ret", { schemaPerTest: true });
let db: TestSchema;
let queue: Queue;
beforeEach(() => void ({ db, queue } = bed));

function worker(options: WorkerOptions = {}): Worker {
  return bed.worker({ noop: async () => {} }, options);
}

interface Row {
  status: string;
  /** How long ago the job was created (its id's time). */
  createdAgoMs: number;
  /** How long ago it finished; null for unfinished jobs. */
  finishedAgoMs: number | null;
  key?: string;
}

/** Inserts jobs as they would be after running: ids from their creation time, finished_at from the database clock. */
async function insert(rows: Row[]): Promise<string[]> {
  const { rows: out } = await db.pool.query(
    `INSERT INTO "${db.schema}".jobs (id, type, status, created_at, finished_at, idempotency_key, locked_by, locked_until)
     SELECT (lpad(to_hex(floor(extract(epoch FROM now() - c * interval '1 millisecond') * 1000)::bigint), 12, '0')
               || substr(replace(gen_random_uuid()::text, '-', ''), 13))::uuid,
            'noop', s, now() - c * interval '1 millisecond', now() - f * interval '1 millisecond', k,
            CASE WHEN s = 'running' THEN 'elsewhere' END, CASE WHEN s = 'running' THEN now() + interval '1 hour' END
     FROM unnest($1::text[], $2::float8[], $3::float8[], $4::text[]) WITH ORDINALITY AS u(s, c, f, k, n)
     ORDER BY n
     RETURNING id`,
    [rows.map((r) => r.status), rows.map((r) => r.createdAgoMs), rows.map((r) => r.finishedAgoMs), rows.map((r) => r.key ?? null)],
  );
  return out.map((r) => r.id);
}

async function remaining(): Promise<Map<string, string>> {
  const { rows } = await db.pool.query(`SELECT id, status FROM "${db.schema}".jobs`);
  return new Map(rows.map((r) => [r.id, r.status]));
}

async function count(): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs`);
  return rows[0].n;
}

describe("retention", () => {
  it("deletes finished jobs past their status's default age and nothing else", async () => {
    const [oldOk, freshOk, oldDead, midDead, oldCanceled, lateFinish, queued, running, failed] = await insert([
      { status: "succeeded", createdAgoMs: 4 * DAY, finishedAgoMs: 4 * DAY - HOUR },
      { status: "succeeded", createdAgoMs: 2 * DAY, finishedAgoMs: 2 * DAY },
      { status: "dead", createdAgoMs: 20 * DAY, finishedAgoMs: 15 * DAY },
      { status: "dead", createdAgoMs: 10 * DAY, finishedAgoMs: 10 * DAY },
      { status: "canceled", createdAgoMs: 30 * DAY, finishedAgoMs: 29 * DAY },
      // Created long ago (say, delayed) but finished an hour ago: kept.
      { status: "succeeded", createdAgoMs: 60 * DAY, finishedAgoMs: HOUR },
      // Never deleted, however old their timestamps.
      { status: "queued", createdAgoMs: 90 * DAY, finishedAgoMs: 89 * DAY },
      { status: "running", createdAgoMs: 90 * DAY, finishedAgoMs: 89 * DAY },
      { status: "failed", createdAgoMs: 90 * DAY, finishedAgoMs: 89 * DAY },
    ]);
    const result = await worker().pruneFinished();
    expect(result).toEqual({ deleted: 3, succeeded: 1, dead: 1, canceled: 1 });
    const left = await remaining();
    for (const id of [oldOk, oldDead, oldCanceled]) expect(left.has(id!)).toBe(false);
    for (const id of [freshOk, midDead, lateFinish, queued, running, failed]) expect(left.has(id!)).toBe(true);
    // A second pass finds nothing more.
    expect((await worker().pruneFinished()).deleted).toBe(0);
  });

  it("takes ages per status, and false keeps a status (or everything) forever", async () => {
    await insert([
      { status: "succeeded", createdAgoMs: 2 * HOUR, finishedAgoMs: 2 * HOUR },
      { status: "dead", createdAgoMs: 400 * DAY, finishedAgoMs: 400 * DAY },
      { status: "canceled", createdAgoMs: 2 * HOUR, finishedAgoMs: 2 * HOUR },
    ]);
    expect(await worker({ retention: false }).pruneFinished()).toEqual({ deleted: 0, succeeded: 0, dead: 0, canceled: 0 });
    expect(await worker({ retention: { succeededMs: HOUR, deadMs: false, canceledMs: 3 * HOUR } }).pruneFinished()).toEqual({
      deleted: 1,
      succeeded: 1,
      dead: 0,
      canceled: 0,
    });
    expect(await worker({ retention: { canceledMs: HOUR } }).pruneFinished()).toEqual({ deleted: 2, succeeded: 0, dead: 1, canceled: 1 });
    expect(await count()).toBe(0);
  });

  it("deletes in batches until none are left", async () => {
    const n = 2_500;
    await insert(Array.from({ length: n }, (_, i) => ({ status: "succeeded", createdAgoMs: 10 * DAY - i, finishedAgoMs: 5 * DAY })));
    await insert([{ status: "succeeded", createdAgoMs: HOUR, finishedAgoMs: HOUR }]);
    expect(await worker().pruneFinished()).toEqual({ deleted: n, succeeded: n, dead: 0, canceled: 0 });
    expect(await count()).toBe(1);
  });

  it("deletes each job once when workers and an operator prune at the same time", async () => {
    const n = 6_000;
    await insert(Array.from({ length: n }, (_, i) => ({ status: i % 3 === 0 ? "dead" : "succeeded", createdAgoMs: 30 * DAY - i, finishedAgoMs: 20 * DAY })));
    const pruners = [worker(), worker(), worker()];
    const results = await Promise.all([...pruners.map((w) => w.pruneFinished()), queue.prune(), queue.prune({ statuses: ["dead"] })]);
    expect(results.reduce((sum, r) => sum + r.deleted, 0)).toBe(n);
    expect(results.reduce((sum, r) => sum + r.dead, 0)).toBe(n / 3);
    expect(await count()).toBe(0);
  });

  it("runs in the maintenance loop on its own", async () => {
    await insert([{ status: "succeeded", createdAgoMs: 2 * HOUR, finishedAgoMs: 2 * HOUR }]);
    const w = worker({ retention: { succeededMs: HOUR, intervalMs: 50 } });
    const pruned = nextEvent(w, "jobs:pruned");
    await w.start();
    expect(await pruned).toEqual({ deleted: 1, succeeded: 1, dead: 0, canceled: 0 });
    expect(await count()).toBe(0);
  });

  it("frees a job's idempotency key once the job is deleted, and not before", async () => {
    const w = worker();
    await w.start();
    const first = await queue.enqueue("noop", {}, { idempotencyKey: "daily-report" });
    await waitFor(async () => (await queue.getJob(first.job.id))?.status === "succeeded", "the job to succeed");
    const again = await queue.enqueue("noop", {}, { idempotencyKey: "daily-report" });
    expect(again).toMatchObject({ created: false, job: { id: first.job.id } });

    // Not old enough for the default: still remembered.
    expect((await queue.prune()).deleted).toBe(0);
    expect((await queue.enqueue("noop", {}, { idempotencyKey: "daily-report" })).created).toBe(false);

    expect(await queue.prune({ olderThanMs: 0 })).toMatchObject({ deleted: 1, succeeded: 1 });
    expect(await queue.getJob(first.job.id)).toBeNull();
    const fresh = await queue.enqueue("noop", {}, { idempotencyKey: "daily-report" });
    expect(fresh.created).toBe(true);
    expect(fresh.job.id).not.toBe(first.job.id);
  });

  it("prunes only the statuses asked for, at the age asked for", async () => {
    const [dead, ok] = await insert([
      { status: "dead", createdAgoMs: 3 * HOUR, finishedAgoMs: 2 * HOUR },
      { status: "succeeded", createdAgoMs: 3 * HOUR, finishedAgoMs: 2 * HOUR },
    ]);
    expect(await queue.prune({ statuses: ["dead"] })).toMatchObject({ deleted: 0 });
    expect(await queue.prune({ statuses: ["dead"], olderThanMs: 3 * HOUR })).toMatchObject({ deleted: 0 });
    expect(await queue.prune({ statuses: ["dead"], olderThanMs: HOUR })).toEqual({ deleted: 1, succeeded: 0, dead: 1, canceled: 0 });
    const left = await remaining();
    expect(left.has(dead!)).toBe(false);
    expect(left.get(ok!)).toBe("succeeded");
  });

  it("walks the primary key instead of reading the table", async () => {
    await insert(Array.from({ length: 20_000 }, (_, i) => ({ status: "succeeded", createdAgoMs: 2 * DAY - i * 1000, finishedAgoMs: DAY })));
    await db.pool.query(`ANALYZE "${db.schema}".jobs`);
    const { jobPrune } = await import("../src/sql/jobPrune.js");
    const { rows } = await db.pool.query(`EXPLAIN (FORMAT JSON) ${jobPrune.statement(db.schema).text}`, [
      null,
      "00000000-0000-0000-0000-000000000000",
      DEFAULT_RETENTION.succeededMs,
      DEFAULT_RETENTION.deadMs,
      DEFAULT_RETENTION.canceledMs,
      1000,
    ]);
    const plan = JSON.stringify(rows[0]["QUERY PLAN"]);
    expect(plan).toContain('"Index Name":"jobs_pkey"');
    expect(plan).not.toContain('"Node Type":"Seq Scan"');
  });

  it("refuses bad options before any SQL, naming the field", async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ succeededMs: -1 }, /options\.retention\.succeededMs/],
      [{ deadMs: "14d" }, /options\.retention\.deadMs/],
      [{ canceledMs: true }, /options\.retention\.canceledMs/],
      [{ intervalMs: 0 }, /options\.retention\.intervalMs/],
      [{ keep: 1 }, /options\.retention/],
      [true, /options\.retention/],
    ];
    for (const [retention, field] of bad) {
      expect(() => worker({ retention: retention as never })).toThrow(ValidationError);
      expect(() => worker({ retention: retention as never })).toThrow(field);
    }
    await insert([{ status: "dead", createdAgoMs: 30 * DAY, finishedAgoMs: 30 * DAY }]);
    for (const options of [{ olderThanMs: -5 }, { olderThanMs: 1.5 }, { statuses: ["queued"] }, { statuses: [] }, { status: "dead" }]) {
      await expect(queue.prune(options as never)).rejects.toThrow(ValidationError);
    }
    await expect(queue.prune({ statuses: ["running" as never] })).rejects.toThrow(/options\.statuses\.0/);
    expect(await count()).toBe(1);
  });
});
