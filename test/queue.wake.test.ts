import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { runner } from "../src/db.js";
import { insertJobs, prepareJob } from "../src/enqueue.js";
import type { EnqueueOptions, Queue } from "../src/index.js";
import { WakeDebounce } from "../src/wake-debounce.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, type TestSchema } from "./support/db.js";

// Enqueues throttle their NOTIFY (one per Queue per 10 ms, plus a trailing one
// for what the window held): notifying transactions commit one at a time, so
// a NOTIFY per enqueue caps concurrent producers. Workers must still wake.

// Each test gets a schema and a Queue of its own: a Queue's throttle starts
// afresh, and no NOTIFY of an earlier test reaches its listeners.
const bed = useTestBed("qw", { schemaPerTest: true });
let db: TestSchema;
let queue: Queue;
beforeEach(() => void ({ db, queue } = bed));

async function listen(channel: string): Promise<{ client: pg.Client; payloads: string[] }> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const payloads: string[] = [];
  client.on("notification", (n) => payloads.push(n.payload ?? ""));
  await client.query(`LISTEN "${channel}"`);
  return { client, payloads };
}

describe("waking workers from a busy producer", () => {
  it("sends fewer NOTIFYs than enqueues, and a trailing one for the last window", async () => {
    const { client, payloads } = await listen(`djps:${db.schema}:jobs`);
    try {
      await Promise.all(Array.from({ length: 10 }, async (_, p) => {
        for (let i = 0; i < 10; i++) await queue.enqueue("w", { p, i }, { queue: "busy" });
      }));
      await queue.close(); // flushes the trailing NOTIFY
      await waitFor(() => payloads.length > 0 && payloads.at(-1) === "busy", "the trailing NOTIFY");
      expect(payloads.length).toBeLessThan(100);
      expect(new Set(payloads)).toEqual(new Set(["busy"]));
    } finally {
      await client.end();
    }
  });

  it("an idle worker polling once a minute still runs every job of a burst promptly", async () => {
    const worker = bed.worker({ burst: async () => null }, { pollIntervalMs: 60_000, queues: ["b"] });
    await worker.start();
    try {
      // Wait for the worker's first (empty) claim to pass, so only notifications can wake it.
      await waitFor(async () => {
        const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND query LIKE $1`, [`%${db.schema}%`]);
        return rows[0].n === 1;
      }, "the worker to listen");
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push((await queue.enqueue("burst", { i }, { queue: "b" })).job.id);
      await waitFor(async () => {
        const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs WHERE id = ANY($1) AND status = 'succeeded'`, [ids]);
        return rows[0].n === ids.length;
      }, "every job of the burst to run well before the 60 s poll", 15_000);
    } finally {
      await worker.stop();
    }
  });

  it("wakes only the queues a batch without keys made runnable, from the statement or the trailing NOTIFY", async () => {
    const channel = `djps:${db.schema}:jobs`;
    const { client, payloads } = await listen(channel);
    try {
      // Calls made together: the first carries the window's NOTIFY, the others leave theirs to the trailing one.
      const calls = [queue.enqueueMany([{ type: "w", payload: 0, options: { queue: "lead" } }])];
      for (let i = 0; i < 5; i++) {
        calls.push(queue.enqueueMany([
          { type: "w", payload: i, options: { queue: "t-now" } },
          { type: "w", payload: i, options: { queue: "t-later", delayMs: 60_000 } },
          { type: "w", payload: i, options: { queue: "t-past", runAt: new Date(Date.now() - 1_000) } },
          { type: "w", payload: i, options: { queue: "t-future", runAt: new Date(Date.now() + 60_000) } },
          { type: "w", payload: i, options: { queue: "t-zero", delayMs: 0 } },
        ]));
      }
      await Promise.all(calls);
      await queue.close(); // flushes the trailing NOTIFY
      await db.pool.query("SELECT pg_notify($1, 'marker')", [channel]);
      await waitFor(() => payloads.includes("marker"), "the marker, after every NOTIFY committed before it");
      // How many NOTIFYs went out depends on timing (one trailing NOTIFY per window
      // in which calls finished); which queues they named does not.
      expect(new Set(payloads)).toEqual(new Set(["lead", "t-now", "t-past", "t-zero", "marker"]));
    } finally {
      await client.end();
    }
  });

  it("a batch left to the trailing NOTIFY names the queues the statement would have", async () => {
    const sent: string[] = [];
    const wake = new WakeDebounce(60_000, async (queues) => void sent.push(...queues));
    expect(wake.lead()).toBe(true); // the window's NOTIFY is spent: the batches below trail
    const target = { sql: { schema: db.schema, run: runner(db.pool, true) }, channel: `djps:${db.schema}:jobs`, wake, inTransaction: false, binary: true };
    const job = (queue: string, options: EnqueueOptions) => prepareJob("w", {}, { queue, ...options }, { schemas: new Map(), maxPayloadBytes: 1024 }, "");
    for (const keyed of [false, true]) {
      const k = (key: string) => (keyed ? { idempotencyKey: key } : {});
      await insertJobs(target, [
        job(`now-${keyed}`, k("a")),
        job(`later-${keyed}`, { delayMs: 60_000, ...k("b") }),
        job(`past-${keyed}`, { runAt: new Date(Date.now() - 1_000), ...k("c") }),
        job(`future-${keyed}`, { runAt: new Date(Date.now() + 60_000), ...k("d") }),
        job(`mixed-${keyed}`, { runAt: new Date(Date.now() + 60_000), ...k("e") }),
        job(`mixed-${keyed}`, { delayMs: 0, ...k("f") }),
      ]);
    }
    await wake.flush();
    expect(sent.sort()).toEqual(["mixed-false", "mixed-true", "now-false", "now-true", "past-false", "past-true"]);
  });

  it("enqueues inside a caller's transaction always notify at their commit", async () => {
    const { client: listener, payloads } = await listen(`djps:${db.schema}:jobs`);
    const tx = await queue.pool.connect();
    try {
      for (let i = 0; i < 3; i++) {
        await tx.query("BEGIN");
        await queue.enqueue("t", { i }, { client: tx, queue: `tx${i}` });
        await tx.query("COMMIT");
      }
      await waitFor(() => payloads.length >= 3, "three NOTIFYs");
      expect(payloads).toEqual(["tx0", "tx1", "tx2"]);
    } finally {
      tx.release();
      await listener.end();
    }
  });
});
