import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationError } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor } from "./support/db.js";
import { killAllChildren, spawnWorker } from "./support/processes.js";
import { gate } from "./support/worker.js";

// The workers table: each running worker has a row it keeps current, and
// removes when it stops; a worker that died leaves a row that stops moving.

const bed = useTestBed("wrk", { schemaPerTest: true, worker: { leaseMs: 1500, pollIntervalMs: 50 } });
afterEach(() => killAllChildren());

const seenAt = async (id: string): Promise<Date | undefined> => (await bed.queue.workers()).find((w) => w.id === id)?.seenAt;

describe("queue.workers()", () => {
  it("lists a running worker with what it works on and how busy it is, and forgets it when it stops", async () => {
    expect(await bed.queue.workers()).toEqual([]);
    const open = gate();
    const worker = bed.worker({ slow: async () => open.promise, other: async () => {} }, { workerId: "w-one", concurrency: 4, queues: ["emails", "reports"] });
    await worker.start();
    const [listed] = await bed.queue.workers();
    expect(listed).toMatchObject({
      id: "w-one",
      host: hostname(),
      pid: process.pid,
      queues: ["emails", "reports"],
      types: ["slow", "other"],
      concurrency: 4,
      running: 0,
    });
    expect(listed!.seenAt).toBeInstanceOf(Date);
    expect(listed!.startedAt).toBeInstanceOf(Date);

    // Three handlers hang: the next report says so.
    await bed.queue.enqueueMany([1, 2, 3].map(() => ({ type: "slow", payload: null, options: { queue: "emails" } })));
    await waitFor(async () => (await bed.queue.workers())[0]?.running === 3, "the worker to report 3 running handlers");
    const before = listed!.seenAt.getTime();
    await waitFor(async () => ((await seenAt("w-one"))?.getTime() ?? 0) > before, "the worker's seenAt to move on");

    open.open();
    await waitFor(async () => (await bed.queue.workers())[0]?.running === 0, "the worker to report none running");
    await worker.stop();
    expect(await bed.queue.workers()).toEqual([]);
  });

  it("lists every worker of the schema, in id order, whatever queues they claim from", async () => {
    const a = bed.worker({ t: async () => {} }, { workerId: "b-worker" });
    const b = bed.worker({ t: async () => {} }, { workerId: "a-worker", queues: ["x"] });
    await Promise.all([a.start(), b.start()]);
    const listed = await bed.queue.workers();
    expect(listed.map((w) => [w.id, w.queues])).toEqual([
      ["a-worker", ["x"]],
      ["b-worker", null],
    ]);
  });

  it("keeps a killed worker's row, no longer moving, and seenWithinMs leaves it out once it is stale", async () => {
    const child = await spawnWorker({ url: bed.db.url, schema: bed.db.schema, workerId: "doomed", concurrency: 2, leaseMs: 1500, heartbeatMs: 300 });
    const first = await waitFor(async () => seenAt("doomed"), "the child to be listed");
    await waitFor(async () => ((await seenAt("doomed"))?.getTime() ?? 0) > first.getTime(), "the child's seenAt to move on");
    child.kill("SIGKILL");
    await child.exited;
    const last = (await seenAt("doomed"))!;
    // Well past several of its report intervals, the row is still there and has not moved.
    await waitFor(async () => {
      const { rows } = await bed.db.pool.query(`SELECT now() - $1::timestamptz > interval '1.5 seconds' AS stale`, [last]);
      return rows[0].stale as boolean;
    }, "1.5 s to pass since its last report");
    expect(await seenAt("doomed")).toEqual(last);
    expect((await bed.queue.workers({ seenWithinMs: 1000 })).map((w) => w.id)).toEqual([]);
    expect((await bed.queue.workers({ seenWithinMs: 3_600_000 })).map((w) => w.id)).toEqual(["doomed"]);
  });

  it("a worker's rescue pass deletes the rows of workers not heard from for an hour", async () => {
    await bed.db.pool.query(
      `INSERT INTO "${bed.db.schema}".workers (id, host, pid, queues, types, concurrency, started_at, seen_at)
       VALUES ('long-gone', 'old-host', 1, NULL, '{t}', 1, now() - interval '3 hours', now() - interval '61 minutes'),
              ('recently-gone', 'old-host', 2, NULL, '{t}', 1, now() - interval '3 hours', now() - interval '59 minutes')`,
    );
    const worker = bed.worker({ t: async () => {} }, { workerId: "alive" });
    // The rescue duty runs at start.
    await worker.start();
    await waitFor(async () => !(await bed.queue.workers()).some((w) => w.id === "long-gone"), "the hour-old row to be deleted");
    expect((await bed.queue.workers()).map((w) => w.id)).toEqual(["alive", "recently-gone"]);
  });

  it("refuses options it cannot use, naming the field", async () => {
    await expect(bed.queue.workers({ seenWithinMs: -1 })).rejects.toThrow(ValidationError);
    await expect(bed.queue.workers({ seenWithinMs: 1.5 })).rejects.toThrow(/options\.seenWithinMs/);
    await expect(bed.queue.workers({ bogus: 1 } as never)).rejects.toThrow(/options/);
  });
});
