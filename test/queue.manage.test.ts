import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, InvalidStateError, JobNotFoundError, Queue, ValidationError, type Job, type JobStatus } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";

const bed = useTestBed("qm");
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

const MISSING = "01890a5d-ac96-774b-bcce-b302099a8057";

/** A job put straight into `status` with SQL, as a worker would have left it. */
async function jobIn(status: JobStatus, set = ""): Promise<Job> {
  const { job } = await queue.enqueue("managed", { status });
  const lease = status === "running" ? ", locked_by = 'w1', locked_until = now() + interval '1 minute', attempts = 1" : "";
  const done = ["succeeded", "dead", "canceled"].includes(status) ? ", finished_at = now()" : "";
  await db.pool.query(`UPDATE "${db.schema}".jobs SET status = $2 ${lease} ${done} ${set} WHERE id = $1`, [job.id, status]);
  return job;
}

async function stored(id: string) {
  const { rows } = await db.pool.query(`SELECT *, run_at <= now() AS runnable FROM "${db.schema}".jobs WHERE id = $1`, [id]);
  return rows[0];
}

describe("getJob", () => {
  it("returns the job, or null for an unknown id", async () => {
    const { job } = await queue.enqueue("get_me", { a: 1 }, { priority: 2 });
    expect(await queue.getJob(job.id)).toEqual(job);
    expect(await queue.getJob(job.id.toUpperCase())).toEqual(job);
    expect(await queue.getJob(MISSING)).toBeNull();
  });

  it("refuses an id that is not a UUID", async () => {
    const error = await queue.getJob("42").catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe("id");
    expect(error.message).toBe('Expected `id` to be a job id (a UUID string), got `"42"` (string)');
  });
});

describe("cancel", () => {
  it.each(["queued", "failed"] as const)("cancels a %s job", async (status) => {
    const job = await jobIn(status);
    const canceled = await queue.cancel(job.id);
    expect(canceled).toMatchObject({ id: job.id, status: "canceled", finishedAt: expect.any(Date) });
    const row = await stored(job.id);
    expect(row.status).toBe("canceled");
    expect(row.finished_at).toEqual(canceled.finishedAt);
  });

  it("asks a running job to stop: records the request, leaves it running, and tells its worker", async () => {
    const job = await jobIn("running");
    const requested = await queue.cancel(job.id);
    expect(requested).toMatchObject({ id: job.id, status: "running", cancelRequestedAt: expect.any(Date), finishedAt: null });
    // A second request keeps the first time.
    expect((await queue.cancel(job.id)).cancelRequestedAt).toEqual(requested.cancelRequestedAt);
  });

  it.each(["succeeded", "dead", "canceled"] as const)("refuses a %s job and leaves it alone", async (status) => {
    const job = await jobIn(status);
    const before = await stored(job.id);
    const error = await queue.cancel(job.id).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.code).toBe("INVALID_STATE");
    expect(error.status).toBe(status);
    expect(error.jobId).toBe(job.id);
    expect(error.message).toBe(`Cannot cancel job \`${job.id}\`: it is \`${status}\`, expected one of \`queued\`, \`failed\`, \`running\``);
    expect(await stored(job.id)).toEqual(before);
  });

  it("throws JobNotFoundError for an unknown id", async () => {
    const error = await queue.cancel(MISSING).catch((e) => e);
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect(error.jobId).toBe(MISSING);
    expect(error.message).toBe(`No job with id \`${MISSING}\``);
  });

  it("throws ValidationError for an invalid id", async () => {
    for (const id of ["nope", "", 12, null, undefined, `${MISSING}x`]) {
      const error = await queue.cancel(id as string).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.field).toBe("id");
      expect(error.message).toMatch(/^Expected `id` to be a job id \(a UUID string\), got /);
    }
  });

  it("works inside the caller's transaction", async () => {
    const job = await jobIn("queued");
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      expect((await queue.cancel(job.id, { client })).status).toBe("canceled");
      expect((await stored(job.id)).status).toBe("queued");
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    expect((await stored(job.id)).status).toBe("queued");
  });
});

describe("retry", () => {
  it.each(["failed", "dead", "canceled"] as const)("puts a %s job back to queued, runnable now", async (status) => {
    const job = await jobIn(status, ", run_at = now() + interval '1 hour', attempts = 1, last_error = 'boom'");
    const retried = await queue.retry(job.id);
    expect(retried).toMatchObject({ id: job.id, status: "queued", finishedAt: null, attempts: 1, maxAttempts: 3 });
    // run_at is reset to the statement's now().
    expect(retried.runAt).toEqual(retried.updatedAt);
    const row = await stored(job.id);
    expect(row).toMatchObject({ status: "queued", finished_at: null, runnable: true, attempts: 1, max_attempts: 3 });
    // The history stays true.
    expect(row.last_error).toBe("boom");
  });

  it("grants one more attempt when they are used up", async () => {
    const job = await jobIn("dead", ", attempts = 3, max_attempts = 3");
    const retried = await queue.retry(job.id);
    expect(retried).toMatchObject({ attempts: 3, maxAttempts: 4, status: "queued" });
    expect((await stored(job.id)).max_attempts).toBe(4);

    const over = await jobIn("dead", ", attempts = 5, max_attempts = 2");
    expect((await queue.retry(over.id)).maxAttempts).toBe(6);
  });

  it.each(["queued", "running", "succeeded"] as const)("refuses a %s job and leaves it alone", async (status) => {
    const job = await jobIn(status);
    const before = await stored(job.id);
    const error = await queue.retry(job.id).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error.status).toBe(status);
    expect(error.message).toBe(
      `Cannot retry job \`${job.id}\`: it is \`${status}\`, expected one of \`failed\`, \`dead\`, \`canceled\``,
    );
    expect(await stored(job.id)).toEqual(before);
  });

  it("throws JobNotFoundError for an unknown id and ValidationError for a bad one", async () => {
    await expect(queue.retry(MISSING)).rejects.toBeInstanceOf(JobNotFoundError);
    const error = await queue.retry("x").catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe("id");
  });

  it("round-trips: cancel, retry, cancel again", async () => {
    const job = await jobIn("queued");
    expect((await queue.cancel(job.id)).status).toBe("canceled");
    expect((await queue.retry(job.id)).status).toBe("queued");
    expect((await queue.cancel(job.id)).status).toBe("canceled");
  });
});

describe("listJobs", () => {
  // A schema of its own, so the listings see only these 25 jobs.
  const listed = useTestBed("ql");
  let db2: TestSchema;
  let q2: Queue;
  let items: Job[];
  beforeAll(async () => {
    ({ db: db2, queue: q2 } = listed);
    const results = await q2.enqueueMany(
      Array.from({ length: 25 }, (_, i) => ({
        type: i % 5 === 0 ? "report" : "email",
        payload: { i },
        options: { queue: i % 2 ? "odd" : "even" },
      })),
    );
    items = results.map((r) => r.job);
    const failed = items.filter((_, i) => i % 3 === 0).map((j) => j.id);
    const dead = items.filter((_, i) => i % 7 === 0 && i % 3 !== 0).map((j) => j.id);
    await db2.pool.query(`UPDATE "${db2.schema}".jobs SET status = 'failed' WHERE id = ANY($1)`, [failed]);
    await db2.pool.query(`UPDATE "${db2.schema}".jobs SET status = 'dead' WHERE id = ANY($1)`, [dead]);
  });
  const indexes = (jobs: Job[]) => jobs.map((j) => (j.payload as { i: number }).i);

  it("pages through 25 jobs 10 at a time, newest first, without gaps or repeats", async () => {
    const pages: Job[][] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await q2.listJobs({ limit: 10, ...(cursor ? { cursor } : {}) });
      pages.push(page.jobs);
      if (page.nextCursor === null) break;
      expect(page.nextCursor).toBe(page.jobs.at(-1)!.id);
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(5);
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const all = pages.flat();
    expect(indexes(all)).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
    expect(new Set(all.map((j) => j.id)).size).toBe(25);
    expect(all[0]).toMatchObject({ type: "email", queue: "even", runAt: expect.any(Date) });
  });

  it("returns nextCursor null when the last page is exactly full", async () => {
    const page = await q2.listJobs({ limit: 25 });
    expect(page.jobs).toHaveLength(25);
    expect(page.nextCursor).toBeNull();
    const more = await q2.listJobs({ limit: 24 });
    expect(more.nextCursor).toBe(more.jobs[23]!.id);
    const last = await q2.listJobs({ limit: 24, cursor: more.nextCursor! });
    expect(indexes(last.jobs)).toEqual([0]);
    expect(last.nextCursor).toBeNull();
  });

  it("defaults to 100 a page", async () => {
    const page = await q2.listJobs();
    expect(page.jobs).toHaveLength(25);
    expect(page.nextCursor).toBeNull();
  });

  it("filters by one status, several statuses, queue and type", async () => {
    const failed = indexes((await q2.listJobs({ status: "failed" })).jobs);
    expect(failed).toEqual([24, 21, 18, 15, 12, 9, 6, 3, 0]);
    const dead = indexes((await q2.listJobs({ status: ["dead"] })).jobs);
    expect(dead).toEqual([14, 7]);
    const either = indexes((await q2.listJobs({ status: ["dead", "failed"] })).jobs);
    expect(either).toEqual([24, 21, 18, 15, 14, 12, 9, 7, 6, 3, 0]);
    expect((await q2.listJobs({ status: "running" })).jobs).toEqual([]);
    expect((await q2.listJobs({ status: [] })).jobs).toEqual([]);

    const odd = indexes((await q2.listJobs({ queue: "odd" })).jobs);
    expect(odd).toEqual([23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1]);
    const reports = indexes((await q2.listJobs({ type: "report" })).jobs);
    expect(reports).toEqual([20, 15, 10, 5, 0]);
    const combined = indexes((await q2.listJobs({ type: "report", queue: "even", status: "failed" })).jobs);
    expect(combined).toEqual([0]);
    expect((await q2.listJobs({ queue: "nope" })).jobs).toEqual([]);
  });

  it("pages through a filtered list", async () => {
    const first = await q2.listJobs({ queue: "odd", limit: 5 });
    const second = await q2.listJobs({ queue: "odd", limit: 5, cursor: first.nextCursor! });
    const third = await q2.listJobs({ queue: "odd", limit: 5, cursor: second.nextCursor! });
    expect([first, second, third].map((p) => indexes(p.jobs))).toEqual([
      [23, 21, 19, 17, 15],
      [13, 11, 9, 7, 5],
      [3, 1],
    ]);
    expect(third.nextCursor).toBeNull();
  });

  it("refuses bad filters", async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ limit: 0 }, "options.limit", /^Expected `options.limit` to be an integer from 1 to 1000, got `0` \(number\)$/],
      [{ limit: 1001 }, "options.limit", /an integer from 1 to 1000, got `1001`/],
      [{ limit: 2.5 }, "options.limit", /an integer from 1 to 1000, got `2.5`/],
      [{ status: "done" }, "options.status", /^Expected `options.status` to be /],
      [{ status: ["queued", "nope"] }, "options.status", /^Expected `options.status/],
      [{ queue: "a b" }, "options.queue", /^Expected `options.queue` to be a name of 1 to 128 characters/],
      [{ type: 5 }, "options.type", /^Expected `options.type` to be a name/],
      [{ cursor: "abc" }, "options.cursor", /^Expected `options.cursor` to be a job id \(a UUID string\), got `"abc"` \(string\)$/],
      [{ cursor: 5 }, "options.cursor", /^Expected `options.cursor` to be a cursor returned by listJobs, got `5` \(number\)$/],
      [{ limt: 5 }, "options.limt", /^Expected the keys of `options` to be one of `status`, `queue`, `type`, `group`, `limit`, `cursor`, got unknown `limt` \(did you mean `limit`\?\)$/],
      ["all", "options", /^Expected `options` to be an options object, got `"all"` \(string\)$/],
    ];
    for (const [options, field, message] of cases) {
      const error = await q2.listJobs(options as never).catch((e) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect(error.field).toBe(field);
      expect(error.message).toMatch(message);
    }
  });
});

describe("stats", () => {
  // A schema of its own: the statistics cover every job in it.
  const fresh = useTestBed("qs");

  it("counts jobs per queue and status, with totals", async () => {
    const { db: own, queue: q } = fresh;
    // As on a server whose default locale is en_US: a natural-language
    // collation would put `a` before `B`.
    const icu = await own.pool.query("SELECT 1 FROM pg_collation WHERE collname = 'en-US-x-icu'");
    if (icu.rowCount) {
      await own.pool.query(`ALTER TABLE "${own.schema}".jobs ALTER COLUMN queue TYPE text COLLATE "en-US-x-icu"`);
    }

    const empty = await q.stats();
    expect(empty.queues).toEqual([]);
    expect(empty.totals).toEqual({ queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0, dead: 0 });

    const results = await q.enqueueMany([
      ...Array.from({ length: 4 }, () => ({ type: "t", payload: 1, options: { queue: "b" } })),
      ...Array.from({ length: 3 }, () => ({ type: "t", payload: 1, options: { queue: "a" } })),
      ...Array.from({ length: 2 }, () => ({ type: "t", payload: 1, options: { queue: "B" } })),
      { type: "t", payload: 1 },
    ]);
    const ids = results.map((r) => r.job.id);
    await own.pool.query(`UPDATE "${own.schema}".jobs SET status = 'succeeded' WHERE id = ANY($1)`, [ids.slice(0, 2)]);
    await own.pool.query(
      `UPDATE "${own.schema}".jobs SET status = 'running', locked_by = 'w', locked_until = now() WHERE id = $1`,
      [ids[2]],
    );
    await own.pool.query(`UPDATE "${own.schema}".jobs SET status = 'dead' WHERE id = ANY($1)`, [ids.slice(4, 6)]);

    const stats = await q.stats();
    const zero = { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0, dead: 0 };
    // Sorted by name, byte order: upper case before lower case.
    expect(stats.queues.map(({ queue, counts, total, paused }) => ({ queue, counts, total, paused }))).toEqual([
      { queue: "B", counts: { ...zero, queued: 2 }, total: 2, paused: false },
      { queue: "a", counts: { ...zero, queued: 1, dead: 2 }, total: 3, paused: false },
      { queue: "b", counts: { ...zero, succeeded: 2, running: 1, queued: 1 }, total: 4, paused: false },
      { queue: "default", counts: { ...zero, queued: 1 }, total: 1, paused: false },
    ]);
    expect(stats.totals).toEqual({ ...zero, queued: 5, running: 1, succeeded: 2, dead: 2 });
    const sum = Object.values(stats.totals).reduce((a, b) => a + b, 0);
    expect(sum).toBe(10);
  });
});

describe("stats over time", () => {
  // A schema of its own: the statistics cover every job in it.
  const fresh = useTestBed("qt");

  it("gives each queue's lag and what finished in the last minute and hour", async () => {
    const { db: own, queue: q } = fresh;
    const none = { succeeded: 0, failed: 0, dead: 0, canceled: 0 };
    expect(await q.stats()).toMatchObject({ lagMs: null, lastMinute: none, lastHour: none });
    // status, queue, run_at offset, finished_at offset, updated_at offset (seconds from now)
    const rows: Array<[string, string, number, number | null, number]> = [
      ["queued", "q", -5, null, -5],
      ["queued", "q", 3600, null, 0], // scheduled: not late
      ["failed", "q", -2, null, -2],
      ["failed", "q", 600, null, -600], // failed ten minutes ago, retries later
      ["succeeded", "q", -40, -30, -30],
      ["succeeded", "q", -1900, -1800, -1800],
      ["succeeded", "q", -7300, -7200, -7200], // over an hour ago
      ["dead", "q", -20, -10, -10],
      ["canceled", "q", -5, -5, -5],
      ["queued", "r", 3600, null, 0],
    ];
    await own.pool.query(
      `INSERT INTO "${own.schema}".jobs (type, status, queue, run_at, finished_at, updated_at)
       SELECT 't', s, q, now() + r * interval '1 second', now() + f * interval '1 second', now() + u * interval '1 second'
       FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::float8[]) AS x(s, q, r, f, u)`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), rows.map((r) => r[4])],
    );
    const stats = await q.stats();
    const [qq, rr] = stats.queues;
    expect(qq!.queue).toBe("q");
    // The oldest due claimable job was due five seconds before the insert.
    expect(qq!.lagMs).toBeGreaterThanOrEqual(5000);
    expect(qq!.lagMs).toBeLessThan(60_000);
    expect(qq!.lastMinute).toEqual({ succeeded: 1, failed: 1, dead: 1, canceled: 1 });
    expect(qq!.lastHour).toEqual({ succeeded: 2, failed: 2, dead: 1, canceled: 1 });
    expect(rr).toMatchObject({ queue: "r", lagMs: null, lastMinute: none, lastHour: none });
    expect(stats.lagMs).toBe(qq!.lagMs);
    expect(stats.lastHour).toEqual(qq!.lastHour);
  });
});

describe("close", () => {
  it("can be called twice, and every call after it throws ConfigError", async () => {
    const own = new Queue({ connectionString: db.url, schema: db.schema });
    const { job } = await own.enqueue("before_close", {});
    const first = own.close();
    const second = own.close();
    expect(second).toBe(first);
    await first;
    await own.close();
    expect(own.pool.ending).toBe(true);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["enqueue", () => own.enqueue("x", {})],
      ["enqueueMany", () => own.enqueueMany([{ type: "x", payload: {} }])],
      ["getJob", () => own.getJob(job.id)],
      ["listJobs", () => own.listJobs()],
      ["cancel", () => own.cancel(job.id)],
      ["retry", () => own.retry(job.id)],
      ["stats", () => own.stats()],
    ];
    for (const [name, call] of calls) {
      const error: any = await call().catch((e) => e);
      expect(error, name).toBeInstanceOf(ConfigError);
      expect(error.code).toBe("CONFIG");
      expect(error.message).toBe("This Queue is closed");
    }
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE type = 'x'`);
    expect(rows[0].n).toBe(0);
  });

  it("lets the calls in flight settle first: each resolves and its job is stored, calls after it are refused", async () => {
    // Far more calls than connections: most are still waiting for one when close() begins.
    const own = new Queue({ connectionString: db.url, schema: db.schema, poolSize: 2 });
    // The schema check is done, so every call below goes straight to the pool's queue.
    await own.pausedQueues();
    const calls: Array<Promise<unknown>> = [
      ...Array.from({ length: 40 }, (_, i) => own.enqueue("in_flight", { i })),
      own.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: "in_flight", payload: { i: 40 + i } }))),
      own.stats(),
      own.listJobs({ type: "in_flight" }),
      own.purgeDead({ type: "in_flight" }),
    ];
    const outcomes: Array<PromiseSettledResult<unknown>> = [];
    for (const call of calls) call.then((value) => outcomes.push({ status: "fulfilled", value }), (reason) => outcomes.push({ status: "rejected", reason }));
    let closed = false;
    void own.close().then(() => (closed = true));
    const late = await own.enqueue("in_flight", { late: true }).catch((e) => e);
    expect(late).toBeInstanceOf(ConfigError);
    await waitFor(() => closed && outcomes.length === calls.length, "close() and every call in flight to settle");
    expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
    const ids = (await Promise.all(calls.slice(0, 41))).flatMap((r) => (Array.isArray(r) ? r : [r])).map((r) => (r as { job: Job }).job.id);
    expect(ids).toHaveLength(45);
    const { rows } = await db.pool.query(`SELECT id FROM "${db.schema}".jobs WHERE type = 'in_flight'`);
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(own.pool.totalCount).toBe(0);
  });

  it("leaves a pool it was given open", async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const own = new Queue({ pool, schema: db.schema });
      expect(own.pool).toBe(pool);
      const { job } = await own.enqueue("external_pool", {});
      await own.close();
      await own.close();
      expect(pool.ending).toBe(false);
      const { rows } = await pool.query(`SELECT status FROM "${db.schema}".jobs WHERE id = $1`, [job.id]);
      expect(rows).toEqual([{ status: "queued" }]);
      await expect(own.getJob(job.id)).rejects.toBeInstanceOf(ConfigError);
    } finally {
      await pool.end();
    }
  });

  it("ends its own pool, so no connection is left behind", async () => {
    const own = new Queue({ connectionString: db.url, schema: db.schema, poolSize: 3 });
    await Promise.all([own.stats(), own.stats(), own.stats()]);
    expect(own.pool.totalCount).toBeGreaterThan(0);
    await own.close();
    expect(own.pool.totalCount).toBe(0);
  });
});
