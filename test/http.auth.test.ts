import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "../src/index.js";
import { createKey, revokeKey } from "../src/http/index.js";
import { useTestBed } from "./support/bed.js";
import { call, startApi, type ApiServer } from "./support/http.js";

// API keys on the wire: missing, wrong, revoked, read-only and out-of-scope
// keys, another tenant's job ids, and a rate limit that holds when two
// servers take from the same bucket at once.

const bed = useTestBed("http_auth");
let api: ApiServer;
let all: string;
let billing: string;
let reader: string;
let two: string;
let emailsJob: string;
let billingJob: string;

beforeAll(async () => {
  api = await startApi(bed.queue);
  ({ key: all } = await createKey(bed.queue, { name: "all" }));
  ({ key: billing } = await createKey(bed.queue, { name: "billing", queues: ["billing"] }));
  ({ key: reader } = await createKey(bed.queue, { name: "reader", readOnly: true }));
  ({ key: two } = await createKey(bed.queue, { name: "two", queues: ["billing", "emails"] }));
  emailsJob = (await bed.queue.enqueue("send", 1, { queue: "emails" })).job.id;
  billingJob = (await bed.queue.enqueue("charge", 1, { queue: "billing" })).job.id;
});
afterAll(async () => {
  expect(api.unexpected).toEqual([]);
  await api.close();
});

describe("without a good key", () => {
  it("answers 401 for no key, a malformed header, an unknown key and a revoked one", async () => {
    const none = await call(api.url, "GET", "/stats");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="djps"');
    expect(none.body.error).toMatchObject({ code: "UNAUTHORIZED", field: "Authorization" });
    expect((await call(api.url, "GET", "/stats", { headers: { authorization: `Basic ${all}` } })).status).toBe(401);
    expect((await call(api.url, "GET", "/stats", { key: "djps_" + "x".repeat(43) })).status).toBe(401);
    expect((await call(api.url, "GET", "/stats", { key: all.slice(0, -1) })).status).toBe(401);
    expect((await call(api.url, "GET", "/stats", { key: "nope" })).status).toBe(401);

    const { id, key } = await createKey(bed.queue, { name: "soon revoked" });
    expect((await call(api.url, "GET", "/stats", { key })).status).toBe(200);
    await revokeKey(bed.queue, id);
    const revoked = await call(api.url, "GET", "/stats", { key });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.message).toBe("Unknown or revoked API key");
  });

  it("serves /health and /openapi.json without a key", async () => {
    expect((await call(api.url, "GET", "/health")).status).toBe(200);
    expect((await call(api.url, "GET", "/openapi.json")).status).toBe(200);
  });
});

describe("a read-only key", () => {
  it("reads but gets 403 for anything that writes", async () => {
    expect((await call(api.url, "GET", `/jobs/${emailsJob}`, { key: reader })).status).toBe(200);
    expect((await call(api.url, "GET", "/jobs", { key: reader })).body.jobs).toHaveLength(2);
    for (const [method, path, body] of [
      ["POST", "/jobs", { type: "t", payload: 1 }],
      ["POST", "/jobs/batch", { jobs: [{ type: "t", payload: 1 }] }],
      ["POST", `/jobs/${emailsJob}/cancel`, undefined],
      ["POST", `/jobs/${emailsJob}/retry`, undefined],
      ["POST", "/dead/purge", { all: true }],
      ["POST", "/queues/emails/pause", undefined],
    ] as const) {
      const r = await call(api.url, method, path, { key: reader, body });
      expect(r.status, path).toBe(403);
      expect(r.body.error.code).toBe("READ_ONLY");
    }
    expect((await bed.queue.getJob(emailsJob))?.status).toBe("queued");
  });
});

describe("a key scoped to a queue", () => {
  it("sees another tenant's job as missing: the same 404 as an id that does not exist", async () => {
    const other = await call(api.url, "GET", `/jobs/${emailsJob}`, { key: billing });
    const missing = await call(api.url, "GET", `/jobs/0190d0c0-0000-7000-8000-000000000000`, { key: billing });
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(other.body.error.code).toBe(missing.body.error.code);
    expect((await call(api.url, "POST", `/jobs/${emailsJob}/cancel`, { key: billing })).status).toBe(404);
    expect((await call(api.url, "POST", `/jobs/${emailsJob}/retry`, { key: billing })).status).toBe(404);
    expect((await bed.queue.getJob(emailsJob))?.status).toBe("queued");
    expect((await call(api.url, "GET", `/jobs/${billingJob}`, { key: billing })).status).toBe(200);
  });

  it("enqueues only into its queues: 403 naming the field otherwise", async () => {
    const own = await call(api.url, "POST", "/jobs", { key: billing, body: { type: "charge", payload: 2, queue: "billing" } });
    expect(own.status).toBe(201);
    const other = await call(api.url, "POST", "/jobs", { key: billing, body: { type: "send", payload: 2, queue: "emails" } });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ code: "FORBIDDEN", field: "queue" });
    // No queue means "default", which this key may not use either.
    expect((await call(api.url, "POST", "/jobs", { key: billing, body: { type: "x", payload: 2 } })).status).toBe(403);
    const batch = await call(api.url, "POST", "/jobs/batch", { key: billing, body: { jobs: [{ type: "a", payload: 1, queue: "billing" }, { type: "a", payload: 1, queue: "emails" }] } });
    expect(batch.status).toBe(403);
    expect(batch.body.error.field).toBe("jobs.1.queue");
    await bed.db.pool.query(`DELETE FROM "${bed.db.schema}".jobs WHERE id = $1`, [own.body.job.id]);
  });

  it("lists, counts and schedules only its queues", async () => {
    const listed = await call(api.url, "GET", "/jobs", { key: billing });
    expect(listed.body.jobs.map((j: any) => j.id)).toEqual([billingJob]);
    expect((await call(api.url, "GET", "/jobs?queue=emails", { key: billing })).status).toBe(403);
    expect((await call(api.url, "GET", "/dead?queue=emails", { key: billing })).status).toBe(403);
    // A key for several queues lists all of them, newest first, page by page.
    const both = [emailsJob, billingJob].sort().reverse();
    expect((await call(api.url, "GET", "/jobs", { key: two })).body).toEqual({ jobs: [expect.objectContaining({ id: both[0] }), expect.objectContaining({ id: both[1] })], nextCursor: null });
    const first = await call(api.url, "GET", "/jobs?limit=1", { key: two });
    expect(first.body.jobs.map((j: any) => j.id)).toEqual([both[0]]);
    const second = await call(api.url, "GET", `/jobs?limit=1&cursor=${first.body.nextCursor}`, { key: two });
    expect(second.body.jobs.map((j: any) => j.id)).toEqual([both[1]]);
    expect(second.body.nextCursor).toBeNull();
    expect((await call(api.url, "GET", "/jobs?queue=emails", { key: two })).body.jobs.map((j: any) => j.id)).toEqual([emailsJob]);

    const stats = await call(api.url, "GET", "/stats", { key: billing });
    expect(stats.body.queues.map((q: any) => q.queue)).toEqual(["billing"]);
    expect(stats.body.totals.queued).toBe(1);
    expect((await call(api.url, "GET", "/queues", { key: billing })).body.queues.map((q: any) => q.queue)).toEqual(["billing"]);

    await bed.queue.schedule("s-billing", "0 * * * *", "charge", null, { queue: "billing" });
    await bed.queue.schedule("s-emails", "0 * * * *", "send", null, { queue: "emails" });
    expect((await call(api.url, "GET", "/schedules", { key: billing })).body.schedules.map((s: any) => s.name)).toEqual(["s-billing"]);
    expect((await call(api.url, "GET", "/metrics", { key: billing })).status).toBe(403);
    expect((await call(api.url, "GET", "/metrics", { key: all })).status).toBe(200);
  });

  it("pauses only its queues and retries or purges only its dead jobs", async () => {
    expect((await call(api.url, "POST", "/queues/emails/pause", { key: billing })).status).toBe(403);
    expect((await call(api.url, "POST", "/queues/billing/pause", { key: billing })).status).toBe(200);
    await bed.queue.resume("billing");
    await bed.db.pool.query(
      `INSERT INTO "${bed.db.schema}".jobs (type, queue, status, attempts, max_attempts, finished_at) VALUES ('d', 'billing', 'dead', 3, 3, now()), ('d', 'emails', 'dead', 3, 3, now())`,
    );
    // `all` from a scoped key means all of its own.
    expect((await call(api.url, "POST", "/dead/purge", { key: billing, body: { all: true } })).body).toEqual({ purged: 1 });
    expect((await call(api.url, "POST", "/dead/retry", { key: billing, body: { queue: "emails" } })).status).toBe(403);
    expect((await bed.queue.stats()).totals.dead).toBe(1);
    // A key for several queues acts on each of them, and only on them.
    await bed.db.pool.query(
      `INSERT INTO "${bed.db.schema}".jobs (type, queue, status, attempts, max_attempts, finished_at) VALUES ('d', 'billing', 'dead', 3, 3, now()), ('d', 'other', 'dead', 3, 3, now())`,
    );
    expect((await call(api.url, "GET", "/dead", { key: two })).body.jobs.map((j: any) => j.queue).sort()).toEqual(["billing", "emails"]);
    expect((await call(api.url, "POST", "/dead/purge", { key: two, body: { type: "d" } })).body).toEqual({ purged: 2 });
    expect((await bed.queue.listJobs({ status: "dead" })).jobs.map((j) => j.queue)).toEqual(["other"]);
  });
});

describe("rate limits", () => {
  it("hold across two servers hit at once: never more than the bucket holds", async () => {
    const other = new Queue({ connectionString: bed.db.url, schema: bed.db.schema });
    const second = await startApi(other);
    try {
      const limit = 5;
      const { key } = await createKey(bed.queue, { name: "limited", rate: { limit, periodMs: 3_600_000 } });
      const started = Date.now();
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) => call(i % 2 ? api.url : second.url, "GET", "/stats", { key }).catch((e) => ({ status: -1, e }))),
      );
      const elapsed = Date.now() - started;
      const ok = responses.filter((r) => r.status === 200).length;
      const limited = responses.filter((r) => r.status === 429);
      // Every token was taken (30 asked for 5), and no more than the bucket
      // held plus what refilled meanwhile (5 an hour).
      expect(ok).toBeGreaterThanOrEqual(limit);
      expect(ok).toBeLessThanOrEqual(limit + Math.floor((elapsed * limit) / 3_600_000));
      expect(ok + limited.length).toBe(30);
      for (const r of limited as Array<{ headers: Headers; body: any }>) {
        expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(r.body.error.code).toBe("RATE_LIMITED");
      }
      expect(second.unexpected).toEqual([]);
    } finally {
      await second.close();
      await other.close();
    }
  });

  it("refills over time: Retry-After says when", async () => {
    const { key } = await createKey(bed.queue, { name: "slow", rate: "1/1s" });
    expect((await call(api.url, "GET", "/stats", { key })).status).toBe(200);
    const refused = await call(api.url, "GET", "/stats", { key });
    if (refused.status === 429) {
      expect(refused.headers.get("retry-after")).toBe("1");
      // Wait as told, then (once the bucket has refilled) the key works again.
      const deadline = Date.now() + 10_000;
      let status = 429;
      while (status === 429 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, Number(refused.headers.get("retry-after")) * 1000));
        status = (await call(api.url, "GET", "/stats", { key })).status;
      }
      expect(status).toBe(200);
    } else {
      // A slow machine let the second request in after the refill.
      expect(refused.status).toBe(200);
    }
  });

  it("writes nothing for a key without a limit", async () => {
    const { id, key } = await createKey(bed.queue, { name: "free" });
    const version = async () => (await bed.db.pool.query(`SELECT xmin::text AS v FROM "${bed.db.schema}".api_keys WHERE id = $1`, [id])).rows[0].v;
    const before = await version();
    for (let i = 0; i < 3; i++) expect((await call(api.url, "GET", "/stats", { key })).status).toBe(200);
    expect(await version()).toBe(before);
  });
});

describe("served without keys", () => {
  it("lets every request in when auth is off, and only then", async () => {
    const open = await startApi(bed.queue, { auth: false });
    try {
      expect((await call(open.url, "GET", "/stats")).status).toBe(200);
      expect((await call(open.url, "POST", "/jobs", { body: { type: "t", payload: 1, queue: "open" } })).status).toBe(201);
      const doc = await call(open.url, "GET", "/openapi.json");
      expect(doc.body.security).toBeUndefined();
    } finally {
      await open.close();
    }
  });
});
