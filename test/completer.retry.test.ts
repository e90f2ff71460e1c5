import { describe, expect, it } from "vitest";
import { runner } from "../src/db.js";
import { isClaimedJob, jobClaim } from "../src/sql/jobClaim.js";
import { jobFromRow } from "../src/sql/jobRow.js";
import { completeWriter } from "../src/worker/completer.js";
import { useTestBed } from "./support/bed.js";

const bed = useTestBed("cr");

describe("completion writes that are retried", () => {
  it("report a job completed by a first try whose reply was lost as succeeded, not as a lost lease", async () => {
    const { db, queue } = bed;
    await queue.enqueueMany([{ type: "t", payload: 1 }, { type: "t", payload: 2 }]);
    const sql = { schema: db.schema, run: runner(db.pool, true) };
    const claimed = (await jobClaim(sql, { queues: null, types: ["t"], limit: 2, start: 2, workerId: "w1", leaseMs: 30_000, holdMs: 30_000 })).filter(isClaimedJob).map(jobFromRow);
    const writer = completeWriter(sql, "w1");
    const batch = claimed.map((job) => ({ job, data: JSON.stringify({ ok: job.payload }) }));

    // The first try commits (its reply, in real life, may never arrive) ...
    expect([...(await writer.write(batch, false)).keys()].sort()).toEqual(claimed.map((j) => j.id).sort());
    // ... so the retry matches no running row; without the recheck both would read as lost.
    const retried = await writer.write(batch, true);
    expect([...retried.values()]).toEqual([{ kind: "succeeded" }, { kind: "succeeded" }]);
    // A first try (not a retry) that matches nothing is a lost lease: nothing reported.
    expect((await writer.write(batch, false)).size).toBe(0);
    // Another attempt of the same jobs never matches: attempt numbers are
    // never reused, so a succeeded row at this worker's attempt is its own.
    const later = batch.map((b) => ({ ...b, job: { ...b.job, attempts: b.job.attempts + 1 } }));
    expect((await writer.write(later, true)).size).toBe(0);
  });
});
