/**
 * The operator commands of `djps` (status, jobs, dlq, queues, prune) against a
 * real database, in a child process each: output for humans and with --json,
 * and exit codes 0 (done), 1 (failed, one line on stderr), 2 (usage).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Worker, type Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import { runCli, type CliRun } from "./support/cli.js";
import type { TestSchema } from "./support/db.js";

const bed = useTestBed("cliop");
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

/** Runs `djps ...args` on the test schema (through DATABASE_URL, as scripts do). */
const djps = (...args: string[]) => runCli([...args, "--schema", db.schema], { DATABASE_URL: db.url });

function ok(run: CliRun): string {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return run.stdout;
}

function fails(run: CliRun, code: 1 | 2 | 3): string {
  expect(run.code).toBe(code);
  expect(run.stdout).toBe("");
  const first = run.stderr.split("\n")[0]!;
  expect(first).toMatch(/^djps: \S/);
  expect(run.stderr.trimEnd().split("\n")).toHaveLength(code === 2 ? 2 : 1);
  return first;
}

async function deadJob(type: string, queueName = "default"): Promise<string> {
  const { rows } = await db.pool.query(
    `INSERT INTO "${db.schema}".jobs (type, queue, status, attempts, max_attempts, finished_at, last_error, errors)
     VALUES ($1, $2, 'dead', 1, 1, now(), 'kaput', '[{"attempt":1,"at":"2026-01-01T00:00:00Z","message":"kaput"}]')
     RETURNING id`,
    [type, queueName],
  );
  return rows[0].id;
}

describe("djps status", () => {
  it("shows queues by state, paused ones marked, as a table and as JSON", async () => {
    await queue.enqueue("report", {}, { queue: "reports" });
    await queue.enqueue("report", {}, { queue: "reports" });
    await queue.pause("emails");
    const human = ok(await djps("status"));
    expect(human).toMatch(/^queue\s+queued\s+running\s+succeeded\s+failed\s+canceled\s+dead\s+total\s+lag\s+ok\/1h\s+failed\/1h$/m);
    expect(human).toMatch(/^emails \(paused\)\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s+-\s+0\s+0$/m);
    expect(human).toMatch(/^reports\s+2\s+0\s+0\s+0\s+0\s+0\s+2\s+\d+\.\ds\s+0\s+0$/m);
    const json = JSON.parse(ok(await djps("status", "--json")));
    expect(json.queues.map((q: any) => [q.queue, q.paused, q.total])).toEqual([
      ["emails", true, 0],
      ["reports", false, 2],
    ]);
    expect(json.workers).toEqual([]);
    expect(human).toMatch(/^No workers running\.$/m);
    await queue.resume("emails");
  });

  it("lists the running workers under the queues", async () => {
    const worker = new Worker({ report: async () => {} }, { connectionString: db.url, schema: db.schema, workerId: "status-w", concurrency: 3, queues: ["reports"] });
    await worker.start();
    try {
      const human = ok(await djps("status"));
      expect(human).toMatch(/^worker\s+process\s+queues\s+running\s+seen$/m);
      expect(human).toMatch(/^status-w\s+\S+:\d+\s+reports\s+0\/3\s+\d+s ago$/m);
      const json = JSON.parse(ok(await djps("status", "--json")));
      expect(json.workers).toEqual([expect.objectContaining({ id: "status-w", queues: ["reports"], concurrency: 3, running: 0 })]);
    } finally {
      await worker.stop();
    }
  });

  it("fails with one line when the schema was never migrated, and without a database", async () => {
    const missing = fails(await runCli(["status", "--schema", "never_migrated_here"], { DATABASE_URL: db.url }), 1);
    expect(missing).toMatch(/has no jobs table.*djps migrate --schema never_migrated_here/);
    expect(fails(await runCli(["status"]), 1)).toMatch(/DATABASE_URL/);
    expect(fails(await runCli(["status", "--schema", "information_schema"], { DATABASE_URL: db.url }), 1)).toMatch(/^djps: Expected `--schema` to be a schema of its own, not a system schema/);
    expect(fails(await djps("status", "--bogus"), 2)).toMatch(/--bogus/);
  });
});

describe("djps jobs", () => {
  it("lists, shows, cancels and retries", async () => {
    const { job } = await queue.enqueue("resize", { w: 100 }, { queue: "media" });
    const list = ok(await djps("jobs", "list", "--queue", "media"));
    expect(list).toContain(job.id);
    expect(list).toMatch(/resize\s+media\s+queued\s+0\/3/);
    const page = JSON.parse(ok(await djps("jobs", "list", "--queue", "media", "--status", "queued", "--json")));
    expect(page.jobs.map((j: any) => j.id)).toEqual([job.id]);

    const shown = ok(await djps("jobs", "show", job.id));
    expect(shown).toMatch(/^status\s+queued$/m);
    expect(shown).toContain('{"w":100}');

    expect(JSON.parse(ok(await djps("jobs", "cancel", job.id, "--json"))).status).toBe("canceled");
    expect(fails(await djps("jobs", "cancel", job.id), 1)).toMatch(/canceled/);
    expect(ok(await djps("jobs", "retry", job.id))).toMatch(/^status\s+queued$/m);
  });

  it("exits 1 for an unknown id and 2 for a malformed command line", async () => {
    expect(fails(await djps("jobs", "show", "0190a000-0000-7000-8000-000000000000"), 1)).toMatch(/0190a000-0000-7000-8000-000000000000/);
    expect(fails(await djps("jobs", "show", "not-an-id"), 1)).toMatch(/ID/);
    expect(fails(await djps("jobs", "show"), 2)).toMatch(/one job id/);
    expect(fails(await djps("jobs", "frobnicate"), 2)).toMatch(/unknown command 'frobnicate'/);
    expect(fails(await djps("jobs", "list", "--status", "sleeping"), 2)).toMatch(/--status/);
    expect(fails(await djps("jobs", "list", "--limit", "lots"), 2)).toMatch(/--limit/);
    expect(fails(await djps("jobs", "list", "--limit", "0"), 1)).toMatch(/--limit/);
  });

  it("prints help for the group and for each command", async () => {
    expect(ok(await runCli(["jobs", "--help"]))).toMatch(/list\s+List jobs/);
    expect(ok(await runCli(["jobs", "list", "--help"]))).toMatch(/--cursor ID/);
    expect(ok(await runCli(["--help"]))).toMatch(/dlq\s+List, retry and purge dead jobs/);
  });
});

describe("djps dlq", () => {
  it("lists, retries and purges dead jobs by filter", async () => {
    const a = await deadJob("charge", "billing");
    const b = await deadJob("charge", "billing");
    const c = await deadJob("notify", "billing");
    const listed = ok(await djps("dlq", "list", "--queue", "billing"));
    for (const id of [a, b, c]) expect(listed).toContain(id);
    expect(listed).toContain("kaput");
    const json = JSON.parse(ok(await djps("dlq", "list", "--type", "notify", "--json")));
    expect(json.jobs).toMatchObject([{ id: c, errors: [{ message: "kaput" }] }]);

    expect(ok(await djps("dlq", "retry", "--type", "charge", "--newer-than", "1h"))).toBe("Retried 2 dead jobs.\n");
    expect(JSON.parse(ok(await djps("dlq", "retry", "--type", "charge", "--json")))).toEqual({ retried: 0 });
    expect((await queue.getJob(a))!.status).toBe("queued");

    expect(ok(await djps("dlq", "purge", "--queue", "billing", "--older-than", "1h"))).toBe("Purged 0 dead jobs.\n");
    expect(JSON.parse(ok(await djps("dlq", "purge", "--queue", "billing", "--json")))).toEqual({ purged: 1 });
    expect(await queue.getJob(c)).toBeNull();
  });

  it("refuses to purge or retry without a filter, and bad durations", async () => {
    const id = await deadJob("keepme");
    expect(fails(await djps("dlq", "purge"), 2)).toMatch(/--all/);
    expect(fails(await djps("dlq", "retry"), 2)).toMatch(/--all/);
    expect(fails(await djps("dlq", "purge", "--older-than", "a week"), 2)).toMatch(/--older-than.*'a week'/);
    expect((await queue.getJob(id))!.status).toBe("dead");
    expect(JSON.parse(ok(await djps("dlq", "purge", "--all", "--json")))).toEqual({ purged: 1 });
  });
});

describe("stored text in human output", () => {
  it("reaches the terminal with control characters escaped, and --json unchanged", async () => {
    const hostile = "boom\u001b[2J\u001b]0;owned\u0007\rline\u009b\u202egnp.exe\nstatus        succeeded";
    const { rows } = await db.pool.query(
      `INSERT INTO "${db.schema}".jobs (type, queue, status, attempts, max_attempts, finished_at, last_error, errors, idempotency_key)
       VALUES ('ctl', 'ctlq', 'dead', 1, 1, now(), $1, jsonb_build_array(jsonb_build_object('attempt', 1, 'at', '2026-01-01T00:00:00Z', 'message', $1::text)), $1)
       RETURNING id`,
      [hostile],
    );
    const id = rows[0].id as string;
    const [shown, listed, dead] = [
      ok(await djps("jobs", "show", id)),
      ok(await djps("jobs", "list", "--queue", "ctlq")),
      ok(await djps("dlq", "list", "--queue", "ctlq")),
    ];
    const outputs = [shown, listed, dead];
    for (const out of outputs) {
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
      expect(out).toContain("boom\\x1b[2J");
    }
    expect(shown).toContain("\\x07\\x0dline\\x9b\\u202egnp.exe\\x0astatus        succeeded");
    // A newline in stored text cannot pass for a line of its own, nor break a table's rows.
    expect(shown.match(/^status.*$/gm)).toEqual([expect.stringMatching(/^status\s+dead$/)]);
    expect(listed.trimEnd().split("\n")).toHaveLength(2);
    expect(dead.trimEnd().split("\n")).toHaveLength(2);
    const json = JSON.parse(ok(await djps("jobs", "show", id, "--json")));
    expect(json.lastError).toBe(hostile);
  });

  it("error lines escape control characters too", async () => {
    const line = fails(await runCli(["\u001b[2Jwipe\u0007"]), 2);
    expect(line).toBe("djps: Unknown command '\\x1b[2Jwipe\\x07'");
  });
});

describe("djps queues", () => {
  it("pauses, lists and resumes", async () => {
    expect(ok(await djps("queues", "pause", "uploads"))).toMatch(/^Queue uploads is paused \(since \d{4}-/);
    expect(ok(await djps("queues", "list"))).toMatch(/^uploads\s+\d{4}-/m);
    expect((await queue.pausedQueues()).map((q) => q.queue)).toContain("uploads");
    expect(JSON.parse(ok(await djps("queues", "resume", "uploads", "--json")))).toEqual({ queue: "uploads", paused: false, pausedAt: null });
    expect(ok(await djps("queues", "list"))).toBe("No paused queues.\n");
    expect(fails(await djps("queues", "pause"), 2)).toMatch(/one queue name/);
    expect(fails(await djps("queues", "pause", "has space"), 1)).toMatch(/QUEUE/);
  });
});

describe("djps schedules", () => {
  it("lists schedules with their next run", async () => {
    expect(ok(await djps("schedules", "list"))).toBe("No schedules.\n");
    await queue.schedule("nightly", "0 3 * * *", "report", null, { timeZone: "Europe/Berlin" });
    expect(ok(await djps("schedules", "list"))).toMatch(/^nightly\s+0 3 \* \* \*\s+Europe\/Berlin\s+report\s+default\s+-\s+\d{4}-\d\d-\d\dT0[12]:00:00\.000Z$/m);
    const json = JSON.parse(ok(await djps("schedules", "list", "--json")));
    expect(json).toMatchObject([{ name: "nightly", cron: "0 3 * * *", type: "report" }]);
    await queue.unschedule("nightly");
  });
});

describe("djps prune", () => {
  it("deletes finished jobs older than asked, by state", async () => {
    const { job } = await queue.enqueue("old", {});
    await db.pool.query(`UPDATE "${db.schema}".jobs SET status = 'succeeded', finished_at = now() - interval '2 days' WHERE id = $1`, [job.id]);
    // Its id was made now: a job cannot finish before it was created, so the
    // walk over ids stops at the cutoff. Age it as a two-day-old job would be.
    await db.pool.query(
      `UPDATE "${db.schema}".jobs SET id = (lpad(to_hex(floor(extract(epoch FROM now() - interval '3 days') * 1000)::bigint), 12, '0') || substr(replace(id::text, '-', ''), 13))::uuid WHERE id = $1`,
      [job.id],
    );
    expect(ok(await djps("prune"))).toBe("Deleted 0 finished jobs (succeeded 0, dead 0, canceled 0).\n");
    expect(ok(await djps("prune", "--status", "dead", "--older-than", "1d"))).toMatch(/^Deleted 0 /);
    expect(JSON.parse(ok(await djps("prune", "--status", "succeeded", "--older-than", "1d", "--json")))).toEqual({
      deleted: 1,
      succeeded: 1,
      dead: 0,
      canceled: 0,
    });
    expect(fails(await djps("prune", "--status", "queued"), 2)).toMatch(/--status/);
    expect(fails(await djps("prune", "--older-than", "soon"), 2)).toMatch(/--older-than/);
  });
});

describe("djps jobs wait", () => {
  it("waits for a job and exits 0 when it succeeded, 1 when it died, 3 when --timeout passed first", async () => {
    const worker = new Worker({ ok: async () => "fine", bad: async () => { throw new Error("nope"); } }, { connectionString: db.url, schema: db.schema, pollIntervalMs: 50 });
    await worker.start();
    try {
      const { job } = await queue.enqueue("ok", null);
      expect(ok(await djps("jobs", "wait", job.id))).toMatch(/^status\s+succeeded$/m);
      const { job: dead } = await queue.enqueue("bad", null, { maxAttempts: 1 });
      const died = await djps("jobs", "wait", dead.id, "--json");
      expect(died.code).toBe(1);
      expect(JSON.parse(died.stdout).status).toBe("dead");
      const { job: later } = await queue.enqueue("ok", null, { delayMs: 3_600_000 });
      expect(fails(await djps("jobs", "wait", later.id, "--timeout", "200ms"), 3)).toMatch(/did not finish within 200 ms \(it is `queued`\)/);
      expect(fails(await djps("jobs", "wait", later.id, "--timeout", "soon"), 2)).toMatch(/--timeout expects a duration/);
    } finally {
      await worker.stop();
      // Leave the file's schema as the other tests expect it.
      await db.pool.query(`DELETE FROM "${db.schema}".jobs WHERE type IN ('ok', 'bad')`);
    }
  });
});
