import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../src/http/index.js";
import { useTestBed } from "./support/bed.js";
import { call, startApi, type ApiResponse, type ApiServer } from "./support/http.js";

// Every endpoint of the HTTP API against a real database, through a real
// `node:http` server, with a read-write key for every queue.

const bed = useTestBed("http_api");
let api: ApiServer;
let key: string;

beforeAll(async () => {
  api = await startApi(bed.queue, { basePath: "/djps" });
  ({ key } = await createKey(bed.queue, { name: "all" }));
});
afterEach(async () => {
  expect(api.unexpected).toEqual([]);
  await bed.db.pool.query(`TRUNCATE "${bed.db.schema}".jobs, "${bed.db.schema}".queues, "${bed.db.schema}".schedules`);
});
afterAll(async () => api.close());

const req = (method: string, path: string, options: Parameters<typeof call>[3] = {}): Promise<ApiResponse> => call(api.url, method, path, { key, ...options });

async function dead(jobs: Array<{ type?: string; queue?: string }>): Promise<string[]> {
  const { rows } = await bed.db.pool.query(
    `INSERT INTO "${bed.db.schema}".jobs (type, queue, status, attempts, max_attempts, finished_at, last_error)
     SELECT t, q, 'dead', 3, 3, now(), 'boom' FROM unnest($1::text[], $2::text[]) AS u(t, q) RETURNING id`,
    [jobs.map((j) => j.type ?? "noop"), jobs.map((j) => j.queue ?? "default")],
  );
  return rows.map((r) => r.id);
}

describe("POST /jobs", () => {
  it("enqueues like enqueue(): 201 for a new job, 200 with the existing one for its idempotency key", async () => {
    const runAt = "2030-01-01T00:00:00.000Z";
    const body = { type: "send_email", payload: { to: "a@b.c" }, queue: "emails", priority: 5, runAt, maxAttempts: 7, idempotencyKey: "welcome-1", timeoutMs: 5000 };
    const first = await req("POST", "/jobs", { body });
    expect(first.status).toBe(201);
    expect(first.body.created).toBe(true);
    expect(first.body.job).toMatchObject({ type: "send_email", payload: { to: "a@b.c" }, queue: "emails", priority: 5, runAt, maxAttempts: 7, idempotencyKey: "welcome-1", timeoutMs: 5000, status: "queued" });
    expect(first.headers.get("location")).toBe(`/djps/jobs/${first.body.job.id}`);
    const again = await req("POST", "/jobs", { body: { ...body, payload: "other" } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ job: first.body.job, created: false });
    expect((await bed.queue.getJob(first.body.job.id))?.payload).toEqual({ to: "a@b.c" });
  });

  it("takes the idempotency key from the Idempotency-Key header", async () => {
    const headers = { "Idempotency-Key": "hdr-1" };
    const first = await req("POST", "/jobs", { body: { type: "t", payload: null }, headers });
    expect(first.status).toBe(201);
    expect(first.body.job.idempotencyKey).toBe("hdr-1");
    const second = await req("POST", "/jobs", { body: { type: "t", payload: 2 }, headers });
    expect(second.status).toBe(200);
    expect(second.body.job.id).toBe(first.body.job.id);
    const clash = await req("POST", "/jobs", { body: { type: "t", payload: 2, idempotencyKey: "other" }, headers });
    expect(clash.status).toBe(400);
    expect(clash.body.error.field).toBe("Idempotency-Key");
  });

  it("takes delayMs", async () => {
    const before = Date.now();
    const { body } = await req("POST", "/jobs", { body: { type: "t", payload: 1, delayMs: 60_000 } });
    expect(new Date(body.job.runAt).getTime()).toBeGreaterThanOrEqual(before + 59_000);
  });

  it("answers 400 naming the field, and writes nothing", async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ payload: 1 }, "type", "Expected `type` to be a name of 1 to 128 characters"],
      [{ type: "t" }, "payload", "Expected `payload` to be any JSON value"],
      [{ type: "t", payload: 1, priority: 1.5 }, "priority", "Expected `priority` to be an integer from -32768 to 32767, got `1.5` (number)"],
      [{ type: "t", payload: 1, runAt: "tomorrow" }, "runAt", "Expected `runAt` to be an ISO 8601 date-time"],
      [{ type: "t", payload: 1, runAt: "2030-01-01T00:00:00Z", delayMs: 5 }, "runAt", "pass one of `delayMs` and `runAt`"],
      [{ type: "t", payload: 1, queue: "no spaces" }, "queue", "Expected `queue` to be a name"],
      [{ type: "t", payload: 1, maxAtempts: 3 }, "maxAtempts", "did you mean `maxAttempts`?"],
      [[1, 2], "body", "Expected `body` to be an object { type, payload"],
    ];
    for (const [body, field, message] of cases) {
      const r = await req("POST", "/jobs", { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("VALIDATION");
      expect(r.body.error.field).toBe(field);
      expect(r.body.error.message).toContain(message);
    }
    expect((await bed.queue.stats()).totals.queued).toBe(0);
  });

  it("refuses a payload the Queue refuses, naming it", async () => {
    const r = await req("POST", "/jobs", { raw: '{"type":"t","payload":"\\u0000"}', headers: { "content-type": "application/json" } });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe("payload");
  });
});

describe("POST /jobs/batch", () => {
  it("enqueues many in order, honouring idempotency keys", async () => {
    const existing = await req("POST", "/jobs", { body: { type: "t", payload: 0, idempotencyKey: "b-0" } });
    const r = await req("POST", "/jobs/batch", {
      body: { jobs: [{ type: "t", payload: 0, idempotencyKey: "b-0" }, { type: "t", payload: 1, queue: "q1" }, { type: "u", payload: 2, priority: 3 }] },
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: any) => x.created)).toEqual([false, true, true]);
    expect(r.body.results[0].job.id).toBe(existing.body.job.id);
    expect(r.body.results[1].job.queue).toBe("q1");
    expect(r.body.results[2].job.priority).toBe(3);
  });

  it("names the item and field at fault", async () => {
    const r = await req("POST", "/jobs/batch", { body: { jobs: [{ type: "t", payload: 1 }, { type: "t", payload: 1, priority: "high" }] } });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe("jobs.1.priority");
    const nul = await req("POST", "/jobs/batch", { raw: '{"jobs":[{"type":"t","payload":1},{"type":"t","payload":"\\u0000"}]}', headers: { "content-type": "application/json" } });
    expect(nul.status).toBe(400);
    expect(nul.body.error.field).toBe("jobs.1.payload");
    expect((await req("POST", "/jobs/batch", { body: { jobs: [] } })).body.error.field).toBe("jobs");
    expect((await bed.queue.stats()).totals.queued).toBe(0);
  });
});

describe("jobs", () => {
  it("GET /jobs/:id returns the job; 404 for none, 400 for a malformed id", async () => {
    const { job } = await bed.queue.enqueue("t", { n: 1 });
    const r = await req("GET", `/jobs/${job.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(JSON.parse(JSON.stringify(job)));
    const missing = await req("GET", "/jobs/0190d0c0-0000-7000-8000-000000000000");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
    const bad = await req("GET", "/jobs/nope");
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("id");
  });

  it("GET /jobs lists by status, queue and type, a page at a time", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await bed.queue.enqueue(i % 2 ? "odd" : "even", i, { queue: i < 4 ? "a" : "b" })).job.id);
    await bed.queue.cancel(ids[0]!);
    // Newest first by id (ids made in one millisecond order at random).
    const inA = ids.slice(0, 4).sort().reverse();
    const first = await req("GET", "/jobs?queue=a&limit=2");
    expect(first.status).toBe(200);
    expect(first.body.jobs.map((j: any) => j.id)).toEqual(inA.slice(0, 2));
    const second = await req("GET", `/jobs?queue=a&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.jobs.map((j: any) => j.id)).toEqual(inA.slice(2));
    expect(second.body.nextCursor).toBeNull();
    expect((await req("GET", "/jobs?type=odd")).body.jobs.map((j: any) => j.id).sort()).toEqual([ids[1], ids[3]].sort());
    expect((await req("GET", "/jobs?status=canceled")).body.jobs.map((j: any) => j.id)).toEqual([ids[0]]);
    expect((await req("GET", "/jobs?status=canceled,queued&queue=b")).body.jobs.map((j: any) => j.id)).toEqual([ids[4]]);
    expect((await req("GET", "/jobs?status=canceled&status=queued")).body.jobs).toHaveLength(5);
  });

  it("GET /jobs refuses bad parameters naming them", async () => {
    for (const [query, field] of [["limit=0", "limit"], ["limit=abc", "limit"], ["status=done", "status"], ["cursor=x", "cursor"], ["sort=id", "sort"]] as const) {
      const r = await req("GET", `/jobs?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.error.field, query).toBe(field);
    }
  });

  it("POST /jobs/:id/cancel and /retry move the job, 409 when its state forbids it", async () => {
    const { job } = await bed.queue.enqueue("t", 1);
    const canceled = await req("POST", `/jobs/${job.id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe("canceled");
    const again = await req("POST", `/jobs/${job.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error).toEqual({ code: "INVALID_STATE", message: expect.stringContaining("it is `canceled`") });
    const retried = await req("POST", `/jobs/${job.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe("queued");
    expect((await req("POST", `/jobs/${job.id}/retry`)).status).toBe(409);
    expect((await req("POST", "/jobs/0190d0c0-0000-7000-8000-000000000000/retry")).status).toBe(404);
  });
});

describe("dead jobs", () => {
  it("GET /dead lists them; POST /dead/retry and /dead/purge act by filter", async () => {
    const [a1, a2] = await dead([{ type: "a" }, { type: "a" }]);
    const [b1] = await dead([{ type: "b", queue: "other" }]);
    await bed.queue.enqueue("live", 1);
    const listed = await req("GET", "/dead");
    expect(listed.body.jobs.map((j: any) => j.id)).toEqual([a1, a2, b1].sort().reverse());
    expect((await req("GET", "/dead?queue=other")).body.jobs.map((j: any) => j.id)).toEqual([b1]);
    expect((await req("GET", "/dead?type=a&limit=1")).body.nextCursor).toBe([a1!, a2!].sort()[1]);

    expect((await req("POST", "/dead/retry", { body: { type: "a" } })).body).toEqual({ retried: 2 });
    expect((await bed.queue.getJob(a1!))?.status).toBe("queued");
    expect((await req("POST", "/dead/purge", { body: { queue: "other", finishedBefore: new Date(Date.now() + 60_000).toISOString() } })).body).toEqual({ purged: 1 });
    expect(await bed.queue.getJob(b1!)).toBeNull();
  });

  it("refuses an empty filter and bad dates", async () => {
    const empty = await req("POST", "/dead/purge", { body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain('{ "all": true }');
    expect((await req("POST", "/dead/retry")).status).toBe(400);
    expect((await req("POST", "/dead/retry", { body: { finishedAfter: "yesterday" } })).body.error.field).toBe("finishedAfter");
    await dead([{}]);
    expect((await req("POST", "/dead/purge", { body: { all: true } })).body).toEqual({ purged: 1 });
  });
});

describe("queues, stats, schedules, metrics", () => {
  it("GET /stats reports counts by queue", async () => {
    await bed.queue.enqueue("t", 1, { queue: "q1" });
    await bed.queue.enqueue("t", 1, { queue: "q2" });
    const r = await req("GET", "/stats");
    expect(r.status).toBe(200);
    expect(r.body.queues.map((q: any) => q.queue)).toEqual(["q1", "q2"]);
    expect(r.body.totals.queued).toBe(2);
  });

  it("pauses and resumes a queue, and lists queues with their state", async () => {
    await bed.queue.enqueue("t", 1, { queue: "q1" });
    const paused = await req("POST", "/queues/q2/pause");
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ queue: "q2", paused: true });
    const listed = await req("GET", "/queues");
    expect(listed.body.queues).toEqual([
      expect.objectContaining({ queue: "q1", paused: false, pausedAt: null, total: 1 }),
      expect.objectContaining({ queue: "q2", paused: true, pausedAt: paused.body.pausedAt, total: 0 }),
    ]);
    expect((await req("POST", "/queues/q2/resume")).body).toEqual({ queue: "q2", paused: false, pausedAt: null });
    const bad = await req("POST", "/queues/no%20spaces/pause");
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("name");
  });

  it("sets, changes and clears a queue's limits, and lists them with the queues", async () => {
    const set = await req("POST", "/queues/limited/limits", { body: { concurrency: 5, rate: { limit: 10, intervalMs: 1000 } } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ queue: "limited", concurrency: 5, rate: { limit: 10, intervalMs: 1000 }, group: null });
    // A field left out keeps its limit; null removes it.
    expect((await req("POST", "/queues/limited/limits", { body: { rate: null, group: { concurrency: 2 } } })).body).toEqual({ queue: "limited", concurrency: 5, rate: null, group: { concurrency: 2 } });
    expect(await bed.queue.getLimits("limited")).toEqual({ queue: "limited", concurrency: 5, rate: null, group: { concurrency: 2 } });
    const listed = await req("GET", "/queues");
    expect(listed.body.queues).toContainEqual(expect.objectContaining({ queue: "limited", limits: { concurrency: 5, rate: null, group: { concurrency: 2 } } }));
    const badGroup = await req("POST", "/queues/limited/limits", { body: { group: { concurrency: 0 } } });
    expect(badGroup.status).toBe(400);
    expect(badGroup.body.error.field).toBe("group.concurrency");
    const bad = await req("POST", "/queues/limited/limits", { body: { concurrency: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("concurrency");
    const badRate = await req("POST", "/queues/limited/limits", { body: { rate: { limit: 5 } } });
    expect(badRate.status).toBe(400);
    expect(badRate.body.error.field).toMatch(/^rate/);
    expect((await req("POST", "/queues/limited/limits", { body: { concurrency: null, rate: null, group: null } })).body).toEqual({ queue: "limited", concurrency: null, rate: null, group: null });
  });

  it("GET /schedules lists schedules", async () => {
    await bed.queue.schedule("nightly", "0 3 * * *", "report", { all: true }, { queue: "reports" });
    const r = await req("GET", "/schedules");
    expect(r.status).toBe(200);
    expect(r.body.schedules).toEqual([expect.objectContaining({ name: "nightly", cron: "0 3 * * *", type: "report", queue: "reports", payload: { all: true } })]);
  });

  it("GET /metrics answers the Prometheus text", async () => {
    await bed.queue.enqueue("t", 1, { queue: "m" });
    const r = await req("GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect(r.body).toContain('djps_jobs{queue="m",status="queued"} 1');
  });
});

describe("the rest", () => {
  it("GET /health needs no key and says ok", async () => {
    const r = await call(api.url, "GET", "/health");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ok" });
  });

  it("answers 404 for an unknown path and 405 for a wrong method, in the error shape", async () => {
    const missing = await req("GET", "/nothing");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
    const wrong = await req("DELETE", "/jobs");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST, GET");
    expect(wrong.body.error.code).toBe("METHOD_NOT_ALLOWED");
  });

  it("serves paths without the base path too (a framework that strips its mount path)", async () => {
    const { job } = await bed.queue.enqueue("t", 1);
    const stripped = api.url.replace(/\/djps$/, "");
    expect((await call(stripped, "GET", `/jobs/${job.id}`, { key })).status).toBe(200);
    expect((await call(stripped, "GET", "/djps/jobs/", { key })).status).toBe(200);
  });

  it("reads a doubled slash as a path, not a host", async () => {
    const r = await req("GET", "//stats");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("NOT_FOUND");
  });

  it("answers HEAD like GET without a body", async () => {
    const r = await fetch(`${api.url}/health`, { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("");
  });
});
