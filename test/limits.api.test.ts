import { beforeEach, describe, expect, it } from "vitest";
import { Metrics, Queue, ValidationError } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import type { TestSchema } from "./support/db.js";

// Limits are rows in `queues`: set, changed field by field, removed, listed,
// and shown in stats. Every bad input is refused before any SQL.

const bed = useTestBed("la", { schemaPerTest: true });
let db: TestSchema;
let queue: Queue;
beforeEach(() => void ({ db, queue } = bed));

describe("queue limits", () => {
  it("are set, changed field by field, removed, and seen by another Queue", async () => {
    expect(await queue.getLimits("emails")).toEqual({ queue: "emails", concurrency: null, rate: null, group: null });
    expect(await queue.setLimits("emails", { concurrency: 20, rate: { limit: 100, intervalMs: 1000 } })).toEqual({
      queue: "emails",
      concurrency: 20,
      rate: { limit: 100, intervalMs: 1000 },
      group: null,
    });
    // A field left out keeps its limit; null removes it.
    expect(await queue.setLimits("emails", { concurrency: 5 })).toMatchObject({ concurrency: 5, rate: { limit: 100, intervalMs: 1000 } });
    expect(await queue.setLimits("emails", { rate: null })).toMatchObject({ concurrency: 5, rate: null });
    await queue.setLimits("reports", { rate: { limit: 3, intervalMs: 60_000 } });

    const other = new Queue({ connectionString: db.url, schema: db.schema });
    try {
      expect(await other.listLimits()).toEqual([
        { queue: "emails", concurrency: 5, rate: null, group: null },
        { queue: "reports", concurrency: null, rate: { limit: 3, intervalMs: 60_000 }, group: null },
      ]);
      expect(await other.setLimits("emails", null)).toEqual({ queue: "emails", concurrency: null, rate: null, group: null });
    } finally {
      await other.close();
    }
    expect((await queue.listLimits()).map((l) => l.queue)).toEqual(["reports"]);
    // Limits and pause share the row: one does not disturb the other.
    await queue.pause("reports");
    await queue.setLimits("reports", { concurrency: 2 });
    expect((await queue.pausedQueues()).map((q) => q.queue)).toEqual(["reports"]);
    await queue.resume("reports");
    expect(await queue.getLimits("reports")).toEqual({ queue: "reports", concurrency: 2, rate: { limit: 3, intervalMs: 60_000 }, group: null });
  });

  it("show in stats, also for a limited queue without jobs", async () => {
    await queue.enqueue("t", {}, { queue: "a" });
    await queue.setLimits("a", { concurrency: 3 });
    await queue.setLimits("idle", { rate: { limit: 10, intervalMs: 500 } });
    const stats = await queue.stats();
    expect(stats.queues.map((q) => [q.queue, q.limits])).toEqual([
      ["a", { concurrency: 3, rate: null, group: null }],
      ["idle", { concurrency: null, rate: { limit: 10, intervalMs: 500 }, group: null }],
    ]);
    await queue.setLimits("idle", null);
    expect((await queue.stats()).queues.map((q) => [q.queue, q.limits])).toEqual([["a", { concurrency: 3, rate: null, group: null }]]);
  });

  it("show in the metrics", async () => {
    await queue.setLimits("a", { concurrency: 3, rate: { limit: 100, intervalMs: 1500 } });
    await queue.setLimits("b", { rate: { limit: 7, intervalMs: 60_000 } });
    const text = await new Metrics({ queue }).render();
    expect(text).toContain('djps_queue_concurrency_limit{queue="a"} 3\n');
    expect(text).not.toContain('djps_queue_concurrency_limit{queue="b"}');
    expect(text).toContain('djps_queue_rate_limit_jobs{queue="a"} 100\n');
    expect(text).toContain('djps_queue_rate_limit_interval_seconds{queue="a"} 1.5\n');
    expect(text).toContain('djps_queue_rate_limit_jobs{queue="b"} 7\n');
  });

  it("refuse bad input before any SQL, naming the field", async () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ concurrency: 0 }, /`limits\.concurrency` to be an integer from 1 to 2147483647, got `0`/],
      [{ concurrency: -3 }, /`limits\.concurrency`/],
      [{ concurrency: 1.5 }, /`limits\.concurrency` to be an integer/],
      [{ concurrency: "5" }, /`limits\.concurrency`/],
      [{ rate: { limit: 0, intervalMs: 1000 } }, /`limits\.rate\.limit` to be an integer from 1 to 1000000/],
      [{ rate: { limit: 10, intervalMs: 0 } }, /`limits\.rate\.intervalMs` to be an integer from 1 to 86400000/],
      [{ rate: { limit: 10 } }, /`limits\.rate\.intervalMs`/],
      [{ rate: { limit: 10, intervalMs: 1000, burst: 2 } }, /unknown `burst`/],
      [{ rate: 100 }, /`limits\.rate` to be an object `\{ limit, intervalMs \}` or null/],
      [{ concurency: 3 }, /unknown `concurency` \(did you mean `concurrency`\?\)/],
      [{ group: { concurrency: 0 } }, /`limits\.group\.concurrency` to be an integer from 1 to 2147483647/],
      [{ group: 1 }, /`limits\.group` to be an object `\{ concurrency \}` or null/],
      [{ group: {} }, /`limits\.group\.concurrency`/],
      [undefined, /`limits` to be an object `\{ concurrency, rate, group \}`, or null to remove every limit/],
      ["20", /`limits`/],
    ];
    for (const [limits, message] of bad) {
      const call = queue.setLimits("emails", limits as never);
      await expect(call).rejects.toThrow(ValidationError);
      await expect(queue.setLimits("emails", limits as never)).rejects.toThrow(message);
    }
    await expect(queue.setLimits("has space", { concurrency: 1 })).rejects.toThrow(/`name`/);
    await expect(queue.getLimits("")).rejects.toThrow(ValidationError);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".queues`);
    expect(rows[0].n).toBe(0);
  });
});
