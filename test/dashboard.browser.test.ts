import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandler, createKey } from "../src/http/index.js";
import { useTestBed } from "./support/bed.js";
import { browserMissing, launchBrowser, type TestBrowser } from "./support/browser.js";

// The dashboard in a real browser (Debian's Chromium, driven by
// playwright-core): counts, live updates, actions, a read-only key, hostile
// values and a server restart. Waits are on selectors and page conditions
// with deadlines, never sleeps. With DJPS_SCREENSHOTS=1 the tests also
// write the screenshots in docs/. Functions run in the page reach its
// globals through `globalThis` (this project's types know Node's only).

if (browserMissing) console.warn(`Skipping the dashboard's browser tests. ${browserMissing}`);

const bed = useTestBed("dash_browser");
const SCREENSHOTS = process.env.DJPS_SCREENSHOTS === "1";
const WAIT = 20_000;
let browser: TestBrowser;
let server: Server;
let base: string;
let port: number;
let writer: string;
let reader: string;
const problems: string[] = [];

function listen(at = 0): Promise<Server> {
  const handler = createHandler({ queue: bed.queue, liveTiming: { checkMs: 200, minRefreshMs: 100 }, onError: (e) => problems.push(String(e)) });
  const s = createServer(handler);
  return new Promise((resolve) => s.listen(at, "127.0.0.1", () => resolve(s)));
}

function stop(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });
}

describe.skipIf(browserMissing !== null)("the dashboard in a browser", () => {
  beforeAll(async () => {
    server = await listen();
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    ({ key: writer } = await createKey(bed.queue, { name: "writer" }));
    ({ key: reader } = await createKey(bed.queue, { name: "reader", readOnly: true }));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    if (server?.listening) await stop(server);
    expect(problems).toEqual([]);
  });

  /** A new tab; with a key, signed in already (the key put in its sessionStorage). */
  async function open(hash: string, key?: string): Promise<Page> {
    const page = await browser.context.newPage();
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      // Statuses the tests ask for (401 before the key, 403 for the read-only key) and a refused
      // connection while the server restarts are logged as resource errors; anything else
      // (a Content-Security-Policy violation above all) is a problem.
      if (message.type() === "error" && !/^Failed to load resource|ERR_CONNECTION_REFUSED/.test(message.text())) problems.push(`console: ${message.text()}`);
    });
    if (key) await page.addInitScript((k) => (globalThis as any).sessionStorage.setItem("djps.key", k), key);
    await page.goto(`${base}/${hash}`);
    return page;
  }

  async function text(page: Page, selector: string, expected: string | RegExp): Promise<void> {
    await page.locator(selector).filter({ hasText: expected }).first().waitFor({ timeout: WAIT });
  }

  it("asks for a key, then shows the right counts for each queue", async () => {
    for (let i = 0; i < 3; i++) await bed.queue.enqueue("send_email", { to: `user${i}@example.com` }, { queue: "emails" });
    await bed.queue.enqueueMany([1, 2].map((n) => ({ type: "resize_image", payload: { n }, options: { queue: "images" } })));
    // An hour of history for the throughput chart, and a worker to list (on a queue of its own: it must not take the jobs counted above).
    await bed.db.pool.query(
      `INSERT INTO "${bed.db.schema}".jobs (type, queue, status, attempts, updated_at, finished_at, errors)
       SELECT 'resize_image', 'history', CASE WHEN i % 40 = 0 THEN 'dead' ELSE 'succeeded' END, 1, t, t,
              CASE WHEN i % 9 = 0 THEN jsonb_build_array(jsonb_build_object('attempt', 1, 'at', t, 'message', 'timeout')) ELSE '[]' END
       FROM generate_series(1, 3000) AS i, LATERAL (SELECT now() - ((i * 7919) % 3540) * interval '1 second' AS t) AS at`,
    );
    await bed.worker({ build_report: async () => null }, { queues: ["reports"], concurrency: 4 }).start();
    const page = await open("");
    await page.getByLabel("API key").fill(writer);
    await page.getByRole("button", { name: "Open the dashboard" }).click();
    await text(page, 'tr[data-queue="emails"] td[data-status="queued"]', /^3$/);
    await text(page, 'tr[data-queue="images"] td[data-status="queued"]', /^2$/);
    await text(page, "#live", "Live");
    await page.locator("table.workers").waitFor({ timeout: WAIT });
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem("djps.key"))).toBe(writer);
    if (SCREENSHOTS) await page.screenshot({ path: "docs/dashboard-overview.png", fullPage: true });
    await page.close();
  });

  it("shows a new job without a reload", async () => {
    const page = await open("#/jobs?queue=live", writer);
    await text(page, ".results", "No jobs match.");
    await page.evaluate(() => ((globalThis as any).stillHere = true));
    const { job } = await bed.queue.enqueue("notify", { n: 1 }, { queue: "live" });
    await page.locator(`tr[data-job="${job.id}"]`).waitFor({ timeout: WAIT });
    expect(await page.evaluate(() => (globalThis as any).stillHere)).toBe(true);
    await page.close();
  });

  it("shows a queue's limits in the overview", async () => {
    await bed.queue.enqueue("notify", { n: 1 }, { queue: "capped" });
    await bed.queue.setLimits("capped", { concurrency: 2, rate: { limit: 100, intervalMs: 1000 } });
    const page = await open("#/", writer);
    await page.locator('tr[data-queue="capped"]').waitFor({ timeout: WAIT });
    expect(await page.locator('tr[data-queue="capped"]').innerText()).toContain("≤ 2 running, 100 per");
    await page.close();
  });

  it("redrives a dead job with a click, after confirming, and shows its new state", async () => {
    const id = await deadJob("charge_card", { amount: 12 }, "card declined");
    const page = await open(`#/jobs/${id}`, writer);
    await text(page, "h1 .badge", "dead");
    const questions: string[] = [];
    page.on("dialog", (dialog) => {
      questions.push(dialog.message());
      void dialog.accept();
    });
    if (SCREENSHOTS) await page.screenshot({ path: "docs/dashboard-job.png", fullPage: true });
    await page.getByRole("button", { name: "Redrive from dead" }).click();
    await text(page, "h1 .badge", "queued");
    expect(questions).toHaveLength(1);
    expect((await bed.queue.getJob(id))!.status).toBe("queued");
    await page.close();
  });

  it("gives a read-only key no action buttons, and the API refuses the actions anyway", async () => {
    const id = await deadJob("charge_card", {}, "card declined");
    const page = await open(`#/jobs/${id}`, reader);
    await text(page, "h1 .badge", "dead");
    await text(page, ".who", "read-only");
    expect(await page.locator("button[data-action]").count()).toBe(0);
    await page.goto(`${base}/#/`);
    await page.locator("table.queues").waitFor({ timeout: WAIT });
    expect(await page.getByRole("button", { name: /Pause|Resume/ }).count()).toBe(0);
    const status = await page.evaluate(async ([jobId, key]) => (await fetch(`/jobs/${jobId}/retry`, { method: "POST", headers: { Authorization: `Bearer ${key}` } })).status, [id, reader]);
    expect(status).toBe(403);
    expect((await bed.queue.getJob(id))!.status).toBe("dead");
    await page.close();
  });

  it("shows a hostile payload and error message as text", async () => {
    const hostile = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">`;
    const id = await deadJob("hostile", { html: hostile }, `<img src=y onerror="window.pwned = 3">`);
    const page = await open(`#/jobs/${id}`, writer);
    await text(page, "pre.json", "<script>window.pwned = 1</script>");
    await text(page, "pre.message", `<img src=y onerror="window.pwned = 3">`);
    expect(await page.locator("main img, main script").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).pwned)).toBeUndefined();
    await page.goto(`${base}/#/dead`);
    await text(page, "table.dead", `<img src=y onerror="window.pwned = 3">`);
    expect(await page.locator("main img, main script").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).pwned)).toBeUndefined();
    if (SCREENSHOTS) await page.screenshot({ path: "docs/dashboard-dead.png", fullPage: true });
    await page.close();
  });

  it("reconnects on its own after the server restarts", async () => {
    const page = await open("#/", writer);
    await text(page, "#live", "Live");
    await stop(server);
    await text(page, "#live", /Offline|Connecting/);
    server = await listen(port);
    await text(page, "#live", "Live");
    await bed.queue.enqueue("after_restart", {}, { queue: "restarted" });
    await text(page, 'tr[data-queue="restarted"] td[data-status="queued"]', /^1$/);
    await page.close();
  });

  it("can be used with the keyboard alone", async () => {
    const page = await open("#/", writer);
    await page.locator("table.queues").waitFor({ timeout: WAIT });
    const focused = () => page.evaluate(() => (globalThis as any).document.activeElement?.textContent?.trim() ?? "");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Skip to content");
    const seen: string[] = [];
    for (let i = 0; i < 10 && seen.at(-1) !== "Jobs"; i++) {
      await page.keyboard.press("Tab");
      seen.push(await focused());
    }
    expect(seen.at(-1)).toBe("Jobs");
    await page.keyboard.press("Enter");
    await page.waitForURL(/#\/jobs$/, { timeout: WAIT });
    await page.getByLabel("Find").focus();
    await page.keyboard.type("no-such-key");
    await page.keyboard.press("Enter");
    await text(page, ".results", "No job has the id or idempotency key “no-such-key”.");
    await page.close();
  });

  it("fits a phone's width", async () => {
    const page = await open("#/", writer);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator("table.queues").waitFor({ timeout: WAIT });
    // Wide tables scroll inside their own box; the page itself does not scroll sideways.
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).document.documentElement.clientWidth)).toBe(0);
    if (SCREENSHOTS) await page.screenshot({ path: "docs/dashboard-phone.png" });
    await page.close();
  });
});

/** A job as a worker leaves it once its attempts are used up. */
async function deadJob(type: string, payload: unknown, message: string): Promise<string> {
  const { rows } = await bed.db.pool.query(
    `INSERT INTO "${bed.db.schema}".jobs (type, queue, payload, status, attempts, max_attempts, finished_at, last_error, errors)
     VALUES ($1, 'payments', $2, 'dead', 3, 3, now(), $3,
       jsonb_build_array(jsonb_build_object('attempt', 3, 'at', now(), 'message', $3::text, 'stack', 'Error: ' || $3::text || E'\\n    at charge (app.js:1:1)')))
     RETURNING id`,
    [type, JSON.stringify(payload), message],
  );
  return rows[0].id;
}
