import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/index.js";
import { testClock } from "../src/testing/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor } from "./support/db.js";

// The group option end to end: validated, stored and returned by every way of
// enqueueing; claims of a group take its jobs only as a prefix (never past a
// job this worker cannot run, nor one another transaction holds); jobs
// without a group in a group-limited queue and grouped jobs in a queue with
// no limit both run.

const bed = useTestBed("gapi", { schemaPerTest: true });

/** Claims as a worker of `types` would, straight through the schema's function; returns the claimed payloads. */
async function claim(types: string[], slots = 10, queues: string[] | null = null): Promise<unknown[]> {
  const { rows } = await bed.db.pool.query(
    `SELECT payload FROM "${bed.db.schema}".job_claim($1::text[], $2::text[], $3, $3, 'test', 30000, 1000, false) ORDER BY priority DESC, run_at, id`,
    [queues, types, slots],
  );
  return rows.map((r) => r.payload);
}

const finish = (payload: unknown) =>
  bed.db.pool.query(`UPDATE "${bed.db.schema}".jobs SET status = 'succeeded', finished_at = now(), locked_by = NULL, locked_until = NULL WHERE payload = $1::jsonb`, [
    JSON.stringify(payload),
  ]);

describe("the group option", () => {
  it("is stored and returned by enqueue, enqueueMany, getJob, listJobs and SQL enqueue()", async () => {
    const { queue, db } = bed;
    const one = await queue.enqueue("t", 1, { group: "tenant-1" });
    expect(one.job.group).toBe("tenant-1");
    expect((await queue.getJob(one.job.id))!.group).toBe("tenant-1");
    const many = await queue.enqueueMany([
      { type: "t", payload: 2, options: { group: "tenant-2" } },
      { type: "t", payload: 3 },
      { type: "t", payload: 4, options: { group: "tenant-2", delayMs: 60_000 } },
    ]);
    expect(many.map((r) => r.job.group)).toEqual(["tenant-2", null, "tenant-2"]);
    for (const r of many) {
      const stored = (await queue.getJob(r.job.id))!;
      expect(stored.group).toBe(r.job.group);
      // What enqueueMany returned is what was stored.
      expect(stored.runAt.getTime()).toBe(r.job.runAt.getTime());
    }
    const { rows } = await db.pool.query(`SELECT * FROM "${db.schema}".enqueue('t', '5', '{"group": "tenant-3"}')`);
    expect((await queue.getJob(rows[0].id))!.group).toBe("tenant-3");
    expect((await queue.listJobs({ limit: 10 })).jobs.map((j) => j.group).sort()).toEqual([null, "tenant-1", "tenant-2", "tenant-2", "tenant-3"].sort());
    expect((await queue.listJobs({ group: "tenant-2" })).jobs.map((j) => j.payload)).toEqual([4, 2]);
    await expect(queue.listJobs({ group: "" })).rejects.toThrow(/`options\.group`/);
  });

  it("is taken by cron schedules: their ticks' jobs join the group", async () => {
    const { queue } = bed;
    const clock = testClock(queue);
    const schedule = await queue.schedule("per-tenant", "* * * * * *", "t", { tick: true }, { group: "tenant-9" });
    expect(schedule.group).toBe("tenant-9");
    expect((await queue.listSchedules())[0]!.group).toBe("tenant-9");
    await clock.advance(3000);
    await clock.runSchedules();
    const jobs = (await queue.listJobs({ type: "t" })).jobs;
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.every((j) => j.group === "tenant-9")).toBe(true);
    await expect(queue.schedule("bad", "* * * * *", "t", null, { group: "" })).rejects.toThrow(/`options\.group`/);
  });

  it("refuses a bad group before any SQL, naming the field, in the library and in SQL", async () => {
    const { queue, db } = bed;
    for (const [group, message] of [
      ["", /`options\.group` to be a string of 1 to 256 characters/],
      ["x".repeat(257), /`options\.group` to be a string of 1 to 256 characters/],
      [42, /`options\.group` to be a string/],
      ["a\u0000b", /`options\.group`.*without NUL/],
    ] as const) {
      await expect(queue.enqueue("t", {}, { group: group as never })).rejects.toThrow(ValidationError);
      await expect(queue.enqueue("t", {}, { group: group as never })).rejects.toThrow(message);
    }
    await expect(queue.enqueueMany([{ type: "t", payload: {}, options: { group: "" } }])).rejects.toThrow(/`items\.0\.options\.group`/);
    await expect(db.pool.query(`SELECT * FROM "${db.schema}".enqueue('t', '1', '{"group": ""}')`)).rejects.toMatchObject({
      code: "22023",
      message: expect.stringMatching(/`options\.group` to be a string of 1 to 256 characters/),
    });
    await expect(db.pool.query(`SELECT * FROM "${db.schema}".enqueue('t', '1', '{"group": 7}')`)).rejects.toMatchObject({ code: "22023" });
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs`);
    expect(rows[0].n).toBe(0);
  });

  it("keeps enqueue order for jobs of one group enqueued by several statements of one transaction", async () => {
    const { queue, db } = bed;
    await queue.setLimits("default", { group: { concurrency: 1 } });
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      for (let i = 0; i < 20; i++) await queue.enqueue("t", i, { group: "g", client });
      await client.query(`SELECT * FROM "${db.schema}".enqueue('t', '20', '{"group": "g"}')`);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const order: unknown[] = [];
    for (let i = 0; i <= 20; i++) {
      const [payload] = await claim(["t"]);
      order.push(payload);
      await finish(payload);
    }
    expect(order).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });
});

describe("a group's claim", () => {
  it("never takes a job past an earlier one of its group that this worker does not handle", async () => {
    const { queue } = bed;
    await queue.setLimits("default", { group: { concurrency: 2 } });
    await queue.enqueueMany([
      { type: "a", payload: "a1", options: { group: "g" } },
      { type: "b", payload: "b2", options: { group: "g" } },
      { type: "b", payload: "other", options: { group: "h" } },
    ]);
    // A worker of type b only: the head of g is an `a`, so nothing of g.
    expect(await claim(["b"])).toEqual(["other"]);
    // A worker of both takes a1 and then b2 (the limit is 2).
    expect(await claim(["a", "b"])).toEqual(["a1", "b2"]);
  });

  it("waits behind a job of its group that another transaction holds locked", async () => {
    const { queue, db } = bed;
    await queue.setLimits("default", { group: { concurrency: 5 } });
    await queue.enqueueMany([
      { type: "t", payload: "g1", options: { group: "g" } },
      { type: "t", payload: "g2", options: { group: "g" } },
      { type: "t", payload: "h1", options: { group: "h" } },
    ]);
    const holder = await db.pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(`SELECT id FROM "${db.schema}".jobs WHERE payload = '"g1"' FOR UPDATE`);
      expect(await claim(["t"])).toEqual(["h1"]);
      await holder.query("COMMIT");
    } finally {
      holder.release();
    }
    expect(await claim(["t"])).toEqual(["g1", "g2"]);
  });

  it("serves the groups in turn, one job each before any group's second", async () => {
    const { queue } = bed;
    await queue.enqueueMany(
      ["a", "b", "c"].flatMap((g) => Array.from({ length: 4 }, (_, i) => ({ type: "t", payload: `${g}${i}`, options: { group: g } }))),
    );
    // No group limit: fairness only. Two slots: a0, b0; the next claim starts after b.
    expect(await claim(["t"], 2)).toEqual(["a0", "b0"]);
    expect(await claim(["t"], 2)).toEqual(["a1", "c0"].sort());
    // Six slots over three groups: two each.
    expect((await claim(["t"], 6)).sort()).toEqual(["a2", "a3", "b1", "b2", "c1", "c2"]);
  });

  it("visits a bounded number of groups per claim, the next claim going on from there", async () => {
    const { queue, db } = bed;
    await queue.setLimits("default", { group: { concurrency: 1 } });
    // 600 groups whose first job failed and waits an hour for its retry: each holds its only slot.
    const blocked = Array.from({ length: 600 }, (_, g) => `g${String(g).padStart(3, "0")}`);
    await queue.enqueueMany(blocked.flatMap((group) => ["head", "next"].map((k) => ({ type: "t", payload: { k, group }, options: { group } }))));
    await db.pool.query(
      `UPDATE "${db.schema}".jobs SET status = 'failed', attempts = 1, run_at = now() + interval '1 hour' WHERE payload->>'k' = 'head'`,
    );
    await queue.enqueue("t", "free", { group: "zz" });
    // One claim does not walk all 600 blocked groups; the following ones go on from where it stopped.
    expect(await claim(["t"], 1)).toEqual([]);
    const taken: unknown[] = [];
    for (let i = 0; i < 4 && taken.length === 0; i++) taken.push(...(await claim(["t"], 1)));
    expect(taken).toEqual(["free"]);
  });

  it("runs jobs without a group in a group-limited queue, and grouped jobs in a queue without limits", async () => {
    const { queue } = bed;
    await queue.setLimits("limited", { group: { concurrency: 1 } });
    await queue.enqueueMany([
      { type: "t", payload: "plain", options: { queue: "limited" } },
      { type: "t", payload: "g1", options: { queue: "limited", group: "g" } },
      { type: "t", payload: "g2", options: { queue: "limited", group: "g" } },
      { type: "t", payload: "free1", options: { queue: "open", group: "x" } },
      { type: "t", payload: "free2", options: { queue: "open", group: "x" } },
      { type: "t", payload: "open-plain", options: { queue: "open" } },
    ]);
    const handled: unknown[] = [];
    bed.worker({ t: async (payload) => void handled.push(payload) }, { concurrency: 3 });
    await bed.workers[0]!.start();
    await waitFor(() => handled.length === 6, "all six jobs to run");
    expect(handled.indexOf("g1")).toBeLessThan(handled.indexOf("g2"));
    expect(new Set(handled)).toEqual(new Set(["plain", "g1", "g2", "free1", "free2", "open-plain"]));
  });

  it("shows the group limit in stats and takes nothing from a paused queue", async () => {
    const { queue } = bed;
    await queue.setLimits("events", { group: { concurrency: 2 } });
    await queue.enqueue("t", "e1", { queue: "events", group: "g" });
    expect((await queue.stats()).queues.find((q) => q.queue === "events")!.limits).toEqual({ concurrency: null, rate: null, group: { concurrency: 2 } });
    await queue.pause("events");
    expect(await claim(["t"])).toEqual([]);
    await queue.resume("events");
    expect(await claim(["t"])).toEqual(["e1"]);
  });
});
