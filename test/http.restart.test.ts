import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, Queue } from "../src/index.js";
import { createKey } from "../src/http/index.js";
import { waitFor } from "./support/db.js";
import { openEvents } from "./support/events.js";
import { call, startApi, type ApiServer } from "./support/http.js";
import { startPostgres, type TestServer } from "./support/postgres.js";

// PostgreSQL restarts under the API's traffic: requests in the gap get 503
// (never a 500, never a stack trace), health says so, and once the server is
// back the API serves again without being restarted itself. A server of its
// own, since it is stopped.

let pg: TestServer;
let queue: Queue;
let api: ApiServer;
let key: string;

beforeAll(async () => {
  pg = await startPostgres({ embedded: true, settings: { fsync: "off" } });
  await migrate({ connectionString: pg.url, schema: "djps" });
  queue = new Queue({ connectionString: pg.url, poolSize: 4 });
  api = await startApi(queue);
  ({ key } = await createKey(queue, { name: "t", rate: { limit: 1_000_000, periodMs: 1000 } }));
}, 120_000);
afterAll(async () => {
  await api?.close();
  await queue?.close();
  await pg?.stop();
});

describe("a PostgreSQL restart mid-traffic", () => {
  it("answers 503 while the database is away and serves again once it is back", async () => {
    const statuses = new Map<string, number>();
    const bodies: string[] = [];
    let stop = false;
    let afterRestart = 0;
    let restarted = false;
    const loop = async (i: number) => {
      let n = 0;
      while (!stop) {
        const path = n % 3 === 2 ? "/health" : "/jobs";
        const r = await call(api.url, path === "/jobs" ? "POST" : "GET", path, path === "/jobs" ? { key, body: { type: "t", payload: { i, n } } } : {});
        n++;
        statuses.set(`${path} ${r.status}`, (statuses.get(`${path} ${r.status}`) ?? 0) + 1);
        if (r.status >= 500) bodies.push(JSON.stringify(r.body));
        if (restarted && r.status < 300) afterRestart++;
      }
    };
    const loops = [0, 1, 2, 3].map(loop);
    await waitFor(() => (statuses.get("/jobs 201") ?? 0) > 10, "traffic to flow");
    await pg.restart!("immediate", 500);
    restarted = true;
    await waitFor(() => afterRestart > 20, "requests to succeed after the restart", 30_000);
    stop = true;
    await Promise.all(loops);

    const seen = [...statuses.keys()].sort();
    expect(seen.every((s) => /^\/jobs (201|503)$|^\/health (200|503)$/.test(s)), seen.join(", ")).toBe(true);
    for (const body of bodies) {
      expect(JSON.parse(body).error.code).toBe("UNAVAILABLE");
      expect(body).not.toMatch(/at .*\.(ts|js):\d+|SELECT|INSERT/);
    }
    expect(api.unexpected).toEqual([]);
    expect((await call(api.url, "GET", "/health")).status).toBe(200);
  }, 120_000);

  it("says 503 on /health while the database is down", async () => {
    // Stop and restart with a gap, probing health inside it.
    const down = pg.restart!("fast", 3_000);
    const unhealthy = await waitFor(async () => {
      const r = await call(api.url, "GET", "/health");
      return r.status === 503 ? r : undefined;
    }, "health to report the database down", 30_000);
    expect(unhealthy.body).toEqual({ error: { code: "UNAVAILABLE", message: "The database is unreachable" } });
    expect(unhealthy.headers.get("retry-after")).toBe("5");
    await down;
    await waitFor(async () => (await call(api.url, "GET", "/health")).status === 200, "health to recover", 30_000);
  }, 120_000);

  it("tells the dashboard's open pages that the database went away, and carries on once it is back", async () => {
    const live = await startApi(queue, { liveTiming: { checkMs: 100, minRefreshMs: 50, throughputMs: 0 } });
    const events = await openEvents(`${live.url}/events`, key);
    try {
      await events.next("snapshot");
      const down = pg.restart!("fast", 2_000);
      expect(await events.next("database", (d) => d.up === false, 30_000)).toEqual({ up: false });
      await down;
      expect(await events.next("database", (d) => d.up === true, 30_000)).toEqual({ up: true });
      await queue.enqueue("after_restart", {}, { queue: "restarted" });
      const snapshot = await events.next("snapshot", (s) => s.stats.queues.some((q: any) => q.queue === "restarted"), 30_000);
      expect(snapshot.stats.queues.find((q: any) => q.queue === "restarted").counts.queued).toBe(1);
      expect(live.unexpected).toEqual([]);
    } finally {
      events.close();
      await live.close();
    }
  }, 120_000);
});
