import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { waitFor, within, type TestSchema } from "./support/db.js";
import { createExecutionsTable, killAllChildren, readExecutions, spawnWorker, type ChildEvent, type ChildWorker } from "./support/processes.js";

// Workers made with handleSignals share one signal handling per process: on a
// signal they all drain, and only when the last has stopped does the process
// exit by that signal. The children here run two such workers each (see
// child-signal-workers.ts), whose jobs work until the test releases them.

const SCRIPT = fileURLToPath(new URL("./support/child-signal-workers.ts", import.meta.url));

const bed = useTestBed("wsig", { schemaPerTest: true });
let db: TestSchema;
let queue: Queue;

beforeEach(async () => {
  ({ db, queue } = bed);
  await createExecutionsTable(db.pool, db.schema);
});

afterEach(async () => {
  await killAllChildren();
});

async function jobRow(id: string): Promise<any> {
  const { rows } = await db.pool.query(`SELECT * FROM "${db.schema}".jobs WHERE id = $1`, [id]);
  return rows[0];
}

const release = (child: ChildWorker, id: string) => child.child.stdin!.write(`release ${id}\n`);
const is = (event: string, fields: Record<string, unknown> = {}) => (e: ChildEvent) =>
  e.event === event && Object.entries(fields).every(([k, v]) => e[k] === v);

/** A child with two signal-handling workers, each running one job that waits for the test. */
async function childWithTwoJobs(): Promise<{ child: ChildWorker; first: string; second: string }> {
  const child = await spawnWorker({ url: db.url, schema: db.schema, workerId: "pair", script: SCRIPT });
  const first = (await queue.enqueue("work", null, { queue: "first" })).job.id;
  const second = (await queue.enqueue("work", null, { queue: "second" })).job.id;
  await child.waitFor(is("job", { id: first, by: "pair-first" }), "the first worker's job to start");
  await child.waitFor(is("job", { id: second, by: "pair-second" }), "the second worker's job to start");
  return { child, first, second };
}

/** Waits until both workers logged that the signal began their stop. */
async function bothStopping(child: ChildWorker): Promise<void> {
  for (const by of ["pair-first", "pair-second"]) {
    await child.waitFor(is("log", { by, msg: "signal received: stopping gracefully" }), `${by} to start stopping`);
  }
}

describe("two workers with handleSignals in one process", () => {
  it("on SIGTERM both finish their jobs, and only then does the process exit by the signal", async () => {
    const { child, first, second } = await childWithTwoJobs();

    child.kill("SIGTERM");
    await bothStopping(child);
    // The first worker finishes and stops while the second still runs its job:
    // the process must outlive the first stop for the second job to finish.
    release(child, first);
    await child.waitFor(is("stopped", { by: "pair-first" }), "the first worker to stop");
    release(child, second);

    expect(await within(child.exited, 30_000, "the child to exit")).toEqual({ code: null, signal: "SIGTERM" });
    expect(child.events.filter((e) => e.event === "stopped").map((e) => e.by)).toEqual(["pair-first", "pair-second"]);
    for (const [id, by] of [[first, "pair-first"], [second, "pair-second"]] as const) {
      expect(await jobRow(id)).toMatchObject({ status: "succeeded", attempts: 1, locked_by: null, errors: [], result: { by } });
    }
    const executions = await readExecutions(db.pool, db.schema);
    expect(executions.map((e) => [e.worker_id, e.attempt, e.outcome]).sort()).toEqual([
      ["pair-first", 1, "returned"],
      ["pair-second", 1, "returned"],
    ]);
  });

  it("a second signal while they drain releases the job still running, unspent, and the process exits by the first", async () => {
    const { child, first, second } = await childWithTwoJobs();

    child.kill("SIGINT");
    await bothStopping(child);
    release(child, first);
    await child.waitFor(is("stopped", { by: "pair-first" }), "the first worker to stop");
    child.kill("SIGTERM");

    expect(await within(child.exited, 30_000, "the child to exit")).toEqual({ code: null, signal: "SIGINT" });
    expect(child.events.some(is("log", { by: "pair-second", msg: "second signal: releasing running jobs now" }))).toBe(true);
    expect(child.events.some(is("released", { id: second, by: "pair-second" }))).toBe(true);
    expect(child.events.filter((e) => e.event === "stopped").map((e) => e.by)).toEqual(["pair-first", "pair-second"]);
    expect(await jobRow(first)).toMatchObject({ status: "succeeded", attempts: 1 });
    // Back in the queue at once, the attempt given back (as at the end of a grace period).
    expect(await jobRow(second)).toMatchObject({ status: "queued", attempts: 1, max_attempts: 4, locked_by: null, errors: [] });
    const executions = await readExecutions(db.pool, db.schema);
    expect(executions.find((e) => e.job_id === second)).toMatchObject({ worker_id: "pair-second", outcome: "aborted" });
  });
});

describe("the process's signal listeners", () => {
  const listeners = () => ({ SIGINT: process.listenerCount("SIGINT"), SIGTERM: process.listenerCount("SIGTERM") });

  it("are one pair for every handleSignals worker, and go when the last of them stops on its own", async () => {
    const before = listeners();
    const make = () => bed.worker({ work: async () => undefined }, { handleSignals: true, scheduler: false });
    const a = make();
    const b = make();
    try {
      await a.start();
      await b.start();
      expect(listeners()).toEqual({ SIGINT: before.SIGINT + 1, SIGTERM: before.SIGTERM + 1 });
      await a.stop();
      expect(listeners()).toEqual({ SIGINT: before.SIGINT + 1, SIGTERM: before.SIGTERM + 1 });
      await b.stop();
      // The worker leaves once its stop has settled, just after stop()'s own callers hear of it.
      await waitFor(() => JSON.stringify(listeners()) === JSON.stringify(before), "the listeners to go");
    } finally {
      await Promise.all([a.stop({ timeoutMs: 0 }), b.stop({ timeoutMs: 0 })]);
    }
  });
});
