/**
 * An application's tests with `node:test` and djps/testing. The code under
 * test enqueues jobs; the tests check what was enqueued, run the jobs inline
 * and move time forward instead of waiting. test/examples.testing.test.ts
 * runs this file. In your code, import from "djps" and "djps/testing"
 * instead of ../../src.
 *
 *   DATABASE_URL=postgres://... node --import tsx --test examples/testing/signup.test.ts
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { migrate, Queue } from "../../src/index.js";
import { drain, expectEnqueued, expectNotEnqueued, runJob, testClock } from "../../src/testing/index.js";

// ---- The application under test ----------------------------------------

/** Signs a user up: a welcome email now, a reminder in three days. */
async function signUp(queue: Queue, email: string): Promise<void> {
  await queue.enqueue("send_email", { to: email, template: "welcome" });
  await queue.enqueue("send_email", { to: email, template: "reminder" }, { delayMs: 3 * 24 * 3_600_000 });
}

const sent: Array<{ to: string; template: string }> = [];
const handlers = {
  send_email: async (payload: unknown) => {
    const { to, template } = payload as { to: string; template: string };
    if (to.endsWith("@invalid")) throw new Error(`no such domain: ${to}`);
    sent.push({ to, template });
    return { delivered: true };
  },
};

// ---- The tests ----------------------------------------------------------

// A schema of the test run's own, migrated as in production.
const schema = process.env.DJPS_SCHEMA ?? `app_test_${process.pid}`;
let queue: Queue;

before(async () => {
  await migrate({ schema });
  queue = new Queue({ schema });
});
after(async () => {
  await queue.pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  await queue.close();
});
beforeEach(async () => {
  await queue.pool.query(`TRUNCATE "${schema}".jobs`);
  sent.length = 0;
});

describe("sign-up", () => {
  it("enqueues a welcome email and nothing for others", async () => {
    await signUp(queue, "ada@example.com");
    await expectEnqueued(queue, { type: "send_email", payload: { to: "ada@example.com", template: "welcome" } });
    await expectNotEnqueued(queue, { type: "send_email", payload: { to: "bob@example.com" } });
  });

  it("sends the welcome email now and the reminder three days later", async () => {
    const clock = testClock(queue);
    await signUp(queue, "ada@example.com");

    const now = await drain(queue, handlers);
    assert.equal(now.counts.succeeded, 1);
    assert.deepEqual(sent, [{ to: "ada@example.com", template: "welcome" }]);

    await clock.advance(3 * 24 * 3_600_000);
    await drain(queue, handlers);
    assert.deepEqual(sent[1], { to: "ada@example.com", template: "reminder" });
  });

  it("retries a failed email with backoff", async () => {
    const { job } = await queue.enqueue("send_email", { to: "eve@invalid", template: "welcome" }, { maxAttempts: 2 });
    const run = await runJob(queue, job.id, handlers);
    assert.equal(run.outcome, "failed");
    assert.match(run.error!.message, /no such domain/);

    // The default backoff waits at most a second after the first failure.
    await testClock(queue).advance(1000);
    const { runs } = await drain(queue, handlers);
    assert.deepEqual(runs.map((r) => r.outcome), ["dead"]);
  });
});
