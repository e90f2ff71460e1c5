import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { useTestBed } from "./support/bed.js";

// Properties of the group claim under random histories, driven through the
// schema's own functions (job_claim, job_complete, job_fail) by several
// simulated workers with different slots and job types:
//   - a group never holds more slots (running or failed jobs) than its limit;
//   - the jobs of a group that ever started form a prefix of the group's
//     claim order (priority DESC, then enqueue order): no job overtakes an
//     earlier one of its group;
//   - a job is never running twice, and runs under one worker at a time;
//   - nothing gets stuck: once workers of every type keep claiming and
//     finishing, every job ends succeeded or dead.

const bed = useTestBed("gprop", { schemaPerTest: false });

interface Spec {
  limit: number | null;
  jobs: Array<{ group: string | null; type: "a" | "b"; priority: number }>;
  steps: Array<
    | { op: "claim"; worker: number; slots: number; types: Array<"a" | "b"> }
    | { op: "complete"; pick: number }
    | { op: "fail"; pick: number; permanent: boolean }
  >;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  jobs: fc.array(
    fc.record({
      group: fc.option(fc.constantFrom("g1", "g2", "g3", "g4"), { nil: null, freq: 5 }),
      type: fc.constantFrom("a" as const, "b" as const),
      priority: fc.constantFrom(0, 0, 0, 1),
    }),
    { minLength: 1, maxLength: 24 },
  ),
  steps: fc.array(
    fc.oneof(
      fc.record({
        op: fc.constant("claim" as const),
        worker: fc.integer({ min: 0, max: 2 }),
        slots: fc.integer({ min: 1, max: 5 }),
        types: fc.constantFrom<Array<"a" | "b">>(["a"], ["b"], ["a", "b"]),
      }),
      fc.record({ op: fc.constant("complete" as const), pick: fc.nat() }),
      fc.record({ op: fc.constant("fail" as const), pick: fc.nat(), permanent: fc.boolean() }),
    ),
    { minLength: 1, maxLength: 30 },
  ),
});

interface Row {
  id: string;
  group_key: string | null;
  status: string;
  attempts: number;
  priority: number;
  seq: number;
  locked_by: string | null;
}

describe("the group claim, under random histories", () => {
  it("keeps every group within its limit and in order, and leaves nothing stuck", async () => {
    const { db, queue } = bed;
    const s = `"${db.schema}"`;
    const rows = async (): Promise<Row[]> =>
      (await db.pool.query(`SELECT id, group_key, status, attempts, priority, (payload->>'seq')::int AS seq, locked_by FROM ${s}.jobs`)).rows;
    const claim = async (worker: string, slots: number, types: string[]) =>
      db.pool.query(`SELECT id FROM ${s}.job_claim(NULL, $1::text[], $2, $2, $3, 60000, 1000, false)`, [types, slots, worker]);
    const finish = async (row: Row, how: "complete" | "fail", permanent = false) => {
      if (how === "complete") await db.pool.query(`SELECT * FROM ${s}.job_complete($1::uuid[], $2::int[], '{null}', $3)`, [[row.id], [row.attempts], row.locked_by]);
      else await db.pool.query(`SELECT * FROM ${s}.job_fail($1::uuid[], $2::int[], '{boom}', '{null}', '{0}', $3::bool[], $4, 5)`, [[row.id], [row.attempts], [permanent], row.locked_by]);
    };

    const check = (all: Row[], limit: number | null, label: string) => {
      const groups = new Map<string, Row[]>();
      for (const r of all) if (r.group_key !== null) groups.set(r.group_key, [...(groups.get(r.group_key) ?? []), r]);
      for (const [group, mine] of groups) {
        const held = mine.filter((r) => r.status === "running" || r.status === "failed").length;
        if (limit !== null) expect(held, `${label}: ${group} holds ${held} slots, limit ${limit}`).toBeLessThanOrEqual(limit);
        const order = [...mine].sort((x, y) => y.priority - x.priority || x.seq - y.seq);
        const started = order.map((r) => r.attempts > 0);
        const firstUnstarted = started.indexOf(false);
        if (firstUnstarted >= 0) expect(started.slice(firstUnstarted).some(Boolean), `${label}: ${group} started out of order`).toBe(false);
      }
    };

    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        await db.pool.query(`TRUNCATE ${s}.jobs; DELETE FROM ${s}.queues`);
        if (spec.limit !== null) await queue.setLimits("default", { group: { concurrency: spec.limit } });
        await queue.enqueueMany(
          spec.jobs.map((j, seq) => ({
            type: j.type,
            payload: { seq },
            options: { priority: j.priority, maxAttempts: 3, ...(j.group === null ? {} : { group: j.group }) },
          })),
        );
        for (const [i, step] of spec.steps.entries()) {
          if (step.op === "claim") await claim(`w${step.worker}`, step.slots, step.types);
          else {
            const running = (await rows()).filter((r) => r.status === "running");
            if (running.length === 0) continue;
            const row = running[step.pick % running.length]!;
            await finish(row, step.op, step.op === "fail" && step.permanent);
          }
          check(await rows(), spec.limit, `step ${i} (${step.op})`);
        }
        // Liveness: workers of both types drain everything.
        for (let round = 0; round < 200; round++) {
          await claim("w0", 5, ["a", "b"]);
          const all = await rows();
          check(all, spec.limit, `drain round ${round}`);
          for (const row of all.filter((r) => r.status === "running")) await finish(row, "complete");
          if (all.every((r) => r.status === "succeeded" || r.status === "dead")) return;
        }
        throw new Error(`jobs stuck: ${JSON.stringify((await rows()).filter((r) => r.status !== "succeeded" && r.status !== "dead"))}`);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
