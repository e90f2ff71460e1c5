import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../src/http/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor } from "./support/db.js";
import { openEvents } from "./support/events.js";
import { call, startApi, type ApiServer } from "./support/http.js";

// The dashboard over HTTP, without a browser: the page and its security
// headers, the bundled files and their caching, the live event stream (one
// LISTEN connection however many pages), and the endpoints the page reads.

const bed = useTestBed("dash_http");
let api: ApiServer;
let mounted: ApiServer;
let all: string;
let reader: string;
let billing: string;

beforeAll(async () => {
  api = await startApi(bed.queue, { liveTiming: { checkMs: 100, minRefreshMs: 50 } });
  mounted = await startApi(bed.queue, { basePath: "/ops/djps" });
  ({ key: all } = await createKey(bed.queue, { name: "all" }));
  ({ key: reader } = await createKey(bed.queue, { name: "reader", readOnly: true }));
  ({ key: billing } = await createKey(bed.queue, { name: "billing", queues: ["billing"] }));
});
afterAll(async () => {
  expect(api.unexpected).toEqual([]);
  await api.close();
  await mounted.close();
});

async function page(base: string) {
  const response = await fetch(`${base}/`);
  return { response, html: await response.text() };
}

describe("the page", () => {
  it("is served at the base path without a key, with strict security headers and no inline script", async () => {
    const { response, html } = await page(api.url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = response.headers.get("content-security-policy")!;
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("cache-control")).toBe("no-store");
    // Every script is a file of this server; nothing loads from elsewhere.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc="\/dashboard\/app\.js\?v=)[^>]*>/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it("names its files under the base path it is mounted at", async () => {
    const { response, html } = await page(mounted.url);
    expect(response.status).toBe(200);
    expect(html).toMatch(/src="\/ops\/djps\/dashboard\/app\.js\?v=[\w-]+"/);
    expect(html).toMatch(/href="\/ops\/djps\/dashboard\/app\.css\?v=[\w-]+"/);
    const script = /src="([^"]+)"/.exec(html)![1]!;
    expect((await fetch(new URL(script, mounted.url))).status).toBe(200);
  });

  it("is not served when the handler is made with `dashboard: false`", async () => {
    const bare = await startApi(bed.queue, { dashboard: false });
    try {
      expect((await call(bare.url, "GET", "/")).status).toBe(404);
      expect((await call(bare.url, "GET", "/dashboard/app.js")).status).toBe(404);
      expect((await call(bare.url, "GET", "/events", { key: all })).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

describe("the files", () => {
  it("have their content types, are cached for good under their version and revalidated without it", async () => {
    const { html } = await page(api.url);
    const js = /src="([^"]+)"/.exec(html)![1]!;
    const css = /href="([^"]+)"/.exec(html)![1]!;
    const script = await fetch(new URL(js, api.url));
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    const body = await script.text();
    expect(body.length).toBeGreaterThan(1000);
    expect(body).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    const style = await fetch(new URL(css, api.url));
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    // No font or image from elsewhere.
    expect(await style.text()).not.toMatch(/url\(|@import/);

    const unversioned = await fetch(`${api.url}/dashboard/app.js`);
    expect(unversioned.headers.get("cache-control")).toBe("no-cache");
    const etag = unversioned.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${api.url}/dashboard/app.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  it("go gzipped to clients that accept it, plain to others", async () => {
    const { request } = await import("node:http");
    const get = (encoding: string | undefined) =>
      new Promise<{ encoding: string | undefined; length: number }>((resolve, reject) => {
        const req = request(`${api.url}/dashboard/app.js`, { headers: encoding ? { "accept-encoding": encoding } : {} }, (res) => {
          let length = 0;
          res.on("data", (chunk: Buffer) => (length += chunk.length));
          res.on("end", () => resolve({ encoding: res.headers["content-encoding"], length }));
        });
        req.on("error", reject);
        req.end();
      });
    const plain = await get(undefined);
    const zipped = await get("gzip, deflate, br");
    const refused = await get("gzip;q=0");
    expect(plain.encoding).toBeUndefined();
    expect(zipped.encoding).toBe("gzip");
    expect(refused.encoding).toBeUndefined();
    expect(zipped.length).toBeLessThan(plain.length);
    // The whole page, script and style, gzipped: well under 100 KB.
    expect(zipped.length).toBeLessThan(100 * 1024);
  });

  it("answer 404 for a file that is not one of them", async () => {
    for (const path of ["/dashboard/nope.js", "/dashboard/../package.json", "/dashboard/%2e%2e/package.json", "/dashboard/"]) {
      expect((await call(api.url, "GET", path)).status, path).toBe(404);
    }
  });
});

describe("the event stream", () => {
  it("needs a key, like the API", async () => {
    const none = await openEvents(`${api.url}/events`);
    expect(none.status).toBe(401);
    none.close();
  });

  it("answers HEAD without holding a stream open", async () => {
    const head = await fetch(`${api.url}/events`, { method: "HEAD", headers: { authorization: `Bearer ${reader}` } });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  });

  it("sends a snapshot at once and another when a job is enqueued", async () => {
    const events = await openEvents(`${api.url}/events`, reader);
    try {
      expect(events.status).toBe(200);
      expect(events.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      expect(events.headers.get("cache-control")).toBe("no-store");
      const first = await events.next("snapshot");
      expect(first.throughput).toHaveLength(60);
      const before = first.stats.totals.queued;
      await bed.queue.enqueue("live_one", { n: 1 }, { queue: "emails" });
      const after = await events.next("snapshot", (s) => s.stats.totals.queued === before + 1);
      expect(after.stats.queues.find((q: any) => q.queue === "emails").counts.queued).toBeGreaterThan(0);
    } finally {
      events.close();
    }
  });

  it("shows a scoped key only its queues", async () => {
    await bed.queue.enqueue("charge", {}, { queue: "billing" });
    await bed.queue.enqueue("other", {}, { queue: "elsewhere" });
    const events = await openEvents(`${api.url}/events`, billing);
    try {
      const snapshot = await events.next("snapshot", (s) => s.stats.queues.length > 0);
      expect(snapshot.stats.queues.map((q: any) => q.queue)).toEqual(["billing"]);
    } finally {
      events.close();
    }
  });

  it("shares one LISTEN connection among every open page, and lets it go when the last one leaves", async () => {
    const channel = `djps:${bed.db.schema}:jobs`;
    const listening = async () => {
      const { rows } = await bed.db.pool.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query = $1 AND state = 'idle'",
        [`LISTEN "${channel}"`],
      );
      return rows[0].n as number;
    };
    const pages = await Promise.all([1, 2, 3, 4].map(() => openEvents(`${api.url}/events`, all)));
    await Promise.all(pages.map((p) => p.next("snapshot")));
    await waitFor(async () => (await listening()) === 1 || null, "one LISTEN connection for four pages");
    for (const p of pages) p.close();
    await waitFor(async () => (await listening()) === 0 || null, "no LISTEN connection once the pages are gone");
  });
});

describe("the endpoints the page reads", () => {
  it("say what the key may do", async () => {
    expect((await call(api.url, "GET", "/key", { key: reader })).body).toEqual({ auth: true, readOnly: true, queues: null });
    expect((await call(api.url, "GET", "/key", { key: billing })).body).toEqual({ auth: true, readOnly: false, queues: ["billing"] });
  });

  it("find a job by id or by idempotency key, within the key's scope", async () => {
    const { job } = await bed.queue.enqueue("find_me", {}, { queue: "emails", idempotencyKey: "order-77" });
    await bed.queue.enqueue("find_me_too", {}, { queue: "billing", idempotencyKey: "order-77" });
    const byKey = await call(api.url, "GET", "/search?q=order-77", { key: all });
    expect(byKey.body.jobs.map((j: any) => j.type).sort()).toEqual(["find_me", "find_me_too"]);
    const byId = await call(api.url, "GET", `/search?q=${job.id.toUpperCase()}`, { key: all });
    expect(byId.body.jobs.map((j: any) => j.id)).toEqual([job.id]);
    const scoped = await call(api.url, "GET", "/search?q=order-77", { key: billing });
    expect(scoped.body.jobs.map((j: any) => j.type)).toEqual(["find_me_too"]);
    expect((await call(api.url, "GET", "/search?q=", { key: all })).body.error.field).toBe("q");
  });

  it("group dead jobs by type and last error, and retry one group", async () => {
    await bed.db.pool.query(
      `INSERT INTO "${bed.db.schema}".jobs (type, queue, status, attempts, finished_at, last_error)
       VALUES ('sync', 'default', 'dead', 3, now(), 'timeout'), ('sync', 'default', 'dead', 3, now(), 'timeout'), ('sync', 'default', 'dead', 3, now(), '<b>bad</b>')`,
    );
    const { body } = await call(api.url, "GET", "/dead/groups", { key: all });
    expect(body.groups.map((g: any) => [g.type, g.lastError, g.count])).toEqual([
      ["sync", "timeout", 2],
      ["sync", "<b>bad</b>", 1],
    ]);
    const retried = await call(api.url, "POST", "/dead/retry", { key: all, body: { queue: "default", type: "sync", lastError: "timeout" } });
    expect(retried.body).toEqual({ retried: 2 });
    expect((await call(api.url, "POST", "/dead/purge", { key: reader, body: { lastError: "<b>bad</b>" } })).status).toBe(403);
  });

  it("give a job's trace id", async () => {
    const { job } = await bed.queue.enqueue("traced", {});
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    await bed.db.pool.query(`UPDATE "${bed.db.schema}".jobs SET trace_context = $2 WHERE id = $1`, [job.id, { traceparent }]);
    expect((await call(api.url, "GET", `/jobs/${job.id}/trace`, { key: all })).body).toEqual({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", traceparent, tracestate: null });
  });

  it("count the last hour's outcomes per minute: successes and deaths by finish, failures by each failed attempt", async () => {
    // In a queue of its own, read with a key scoped to it, so the other tests' jobs do not count.
    const { key: tally } = await createKey(bed.queue, { name: "tally", queues: ["tally"] });
    await bed.db.pool.query(
      `INSERT INTO "${bed.db.schema}".jobs (type, queue, status, attempts, updated_at, finished_at, errors) VALUES
         ('t', 'tally', 'succeeded', 2, now() - interval '5 minutes', now() - interval '5 minutes',
           jsonb_build_array(jsonb_build_object('attempt', 1, 'at', now() - interval '20 minutes', 'message', 'x'))),
         ('t', 'tally', 'succeeded', 1, now() - interval '5 minutes', now() - interval '5 minutes', '[]'),
         ('t', 'tally', 'dead', 1, now() - interval '30 minutes', now() - interval '30 minutes',
           jsonb_build_array(jsonb_build_object('attempt', 1, 'at', now() - interval '30 minutes', 'message', 'y'))),
         ('t', 'tally', 'succeeded', 1, now() - interval '2 hours', now() - interval '2 hours', '[]')`,
    );
    const { body } = await call(api.url, "GET", "/overview", { key: tally });
    const series: Array<{ minute: string; succeeded: number; failed: number; dead: number }> = body.throughput;
    expect(series).toHaveLength(60);
    const at = (minutesAgo: number) => series[59 - minutesAgo]!;
    const sum = (k: "succeeded" | "failed" | "dead") => series.reduce((n, m) => n + m[k], 0);
    expect({ succeeded: sum("succeeded"), failed: sum("failed"), dead: sum("dead") }).toEqual({ succeeded: 2, failed: 2, dead: 1 });
    // Each in its minute (give or take the minute boundary passed between the insert and the read).
    expect(at(5).succeeded + at(4).succeeded).toBe(2);
    expect(at(20).failed + at(19).failed).toBe(1);
    expect(at(30).dead + at(29).dead).toBe(1);
  });

  it("give the overview in one answer", async () => {
    const { body } = await call(api.url, "GET", "/overview", { key: all });
    expect(Object.keys(body).sort()).toEqual(["at", "stats", "throughput", "workers"]);
  });
});
