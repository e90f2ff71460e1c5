/**
 * `djps queues limit`, `djps queues limits` and the limits in `djps status`,
 * in a child process each: output, --json, and exit codes 1 (the API refused
 * a value, naming the flag) and 2 (the command line itself was wrong).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { runCli, type CliRun } from "./support/cli.js";
import type { TestSchema } from "./support/db.js";

const bed = useTestBed("clilim");
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

const djps = (...args: string[]) => runCli([...args, "--schema", db.schema], { DATABASE_URL: db.url });

function ok(run: CliRun): string {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return run.stdout;
}

function fails(run: CliRun, code: 1 | 2): string {
  expect(run.code).toBe(code);
  expect(run.stdout).toBe("");
  const first = run.stderr.split("\n")[0]!;
  expect(first).toMatch(/^djps: \S/);
  return first;
}

describe("djps queues limit", () => {
  it("sets, shows, changes, lists and clears a queue's limits", async () => {
    expect(ok(await djps("queues", "limit", "emails"))).toBe("Queue emails limits: none.\n");
    expect(ok(await djps("queues", "limit", "emails", "--concurrency", "20", "--rate", "100/1s"))).toBe(
      "Queue emails limits: concurrency 20, rate 100/1s.\n",
    );
    expect(await queue.getLimits("emails")).toEqual({ queue: "emails", concurrency: 20, rate: { limit: 100, intervalMs: 1000 }, group: null });
    // A limit not named keeps its value; 'none' removes one.
    expect(ok(await djps("queues", "limit", "emails", "--rate", "5/500ms"))).toBe("Queue emails limits: concurrency 20, rate 5/500ms.\n");
    expect(ok(await djps("queues", "limit", "emails", "--concurrency", "none"))).toBe("Queue emails limits: rate 5/500ms.\n");
    expect(JSON.parse(ok(await djps("queues", "limit", "reports", "--rate", "1000/h", "--json")))).toEqual({
      queue: "reports",
      concurrency: null,
      rate: { limit: 1000, intervalMs: 3_600_000 },
      group: null,
    });
    expect(ok(await djps("queues", "limit", "events", "--group-concurrency", "1"))).toBe("Queue events limits: group 1.\n");
    expect(await queue.getLimits("events")).toEqual({ queue: "events", concurrency: null, rate: null, group: { concurrency: 1 } });
    expect(ok(await djps("queues", "limits"))).toMatch(
      /^queue\s+concurrency\s+rate\s+group\nemails\s+-\s+5\/500ms\s+-\nevents\s+-\s+-\s+1\nreports\s+-\s+1000\/1h\s+-\n$/,
    );
    expect(ok(await djps("queues", "limit", "events", "--group-concurrency", "none"))).toBe("Queue events limits: none.\n");

    await queue.enqueue("t", {}, { queue: "emails" });
    const status = ok(await djps("status"));
    expect(status).toMatch(/^queue\s+limits\s+queued\s+running/m);
    expect(status).toMatch(/^emails\s+rate 5\/500ms\s+1\s+0/m);
    expect(JSON.parse(ok(await djps("status", "--json"))).queues.find((q: { queue: string }) => q.queue === "emails").limits).toEqual({
      concurrency: null,
      rate: { limit: 5, intervalMs: 500 },
      group: null,
    });

    expect(ok(await djps("queues", "limit", "emails", "--clear"))).toBe("Queue emails limits: none.\n");
    expect(ok(await djps("queues", "limit", "reports", "--rate", "none"))).toBe("Queue reports limits: none.\n");
    expect(ok(await djps("queues", "limits"))).toBe("No limited queues.\n");
  });

  it("refuses bad values, naming the flag, and writes nothing", async () => {
    expect(fails(await djps("queues", "limit", "emails", "--concurrency", "0"), 1)).toMatch(/^djps: Expected `--concurrency` to be an integer from 1 to 2147483647, got `0`/);
    expect(fails(await djps("queues", "limit", "emails", "--concurrency=-2"), 1)).toMatch(/`--concurrency`/);
    expect(fails(await djps("queues", "limit", "emails", "--concurrency", "1.5"), 1)).toMatch(/`--concurrency` to be an integer/);
    expect(fails(await djps("queues", "limit", "emails", "--rate", "0/1s"), 1)).toMatch(/`--rate` to be an integer from 1 to 1000000/);
    expect(fails(await djps("queues", "limit", "emails", "--rate", "10/0s"), 1)).toMatch(/`--rate` to be an integer from 1 to 86400000/);
    expect(fails(await djps("queues", "limit", "emails", "--rate", "10/2d"), 1)).toMatch(/`--rate`/);
    for (const rate of ["100", "100/", "/1s", "1.5/1s", "100/1x", "100 per second", "x/1s"]) {
      expect(fails(await djps("queues", "limit", "emails", "--rate", rate), 2)).toMatch(/--rate expects a rate like 100\/1s/);
    }
    expect(fails(await djps("queues", "limit", "emails", "--concurrency", "many"), 2)).toMatch(/--concurrency expects a whole number or 'none'/);
    expect(fails(await djps("queues", "limit", "emails", "--group-concurrency", "0"), 1)).toMatch(/^djps: Expected `--group-concurrency` to be an integer from 1 to 2147483647, got `0`/);
    expect(fails(await djps("queues", "limit", "emails", "--group-concurrency", "one"), 2)).toMatch(/--group-concurrency expects a whole number or 'none'/);
    expect(fails(await djps("queues", "limit", "emails", "--clear", "--group-concurrency", "1"), 2)).toMatch(/--clear/);
    expect(fails(await djps("queues", "limit", "emails", "--clear", "--concurrency", "3"), 2)).toMatch(/--clear/);
    expect(fails(await djps("queues", "limit", "--concurrency", "3"), 2)).toMatch(/one queue name/);
    expect(fails(await djps("queues", "limit", "has space", "--concurrency", "3"), 1)).toMatch(/QUEUE/);
    expect(await queue.listLimits()).toEqual([]);
  });
});
