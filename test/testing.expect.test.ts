import { AssertionError } from "node:assert";
import { describe, expect, it } from "vitest";
import type { Queue } from "../src/index.js";
import { expectEnqueued, expectNotEnqueued } from "../src/testing/index.js";
import { contains } from "../src/testing/expect.js";
import { useTestBed } from "./support/bed.js";

const bed = useTestBed("tex", { schemaPerTest: true });
const q = (): Queue => bed.queue;

describe("expectEnqueued and expectNotEnqueued", () => {
  it("pass on a queued job of the type whose payload contains the one given, and return it", async () => {
    const queue = q();
    const { job } = await queue.enqueue("send_email", { to: "a@b.c", tags: ["x", "y"], meta: { lang: "en", v: 2 } }, { queue: "mail" });
    const found = await expectEnqueued(queue, { type: "send_email", payload: { to: "a@b.c", meta: { lang: "en" } } });
    expect(found.id).toBe(job.id);
    await expectEnqueued(queue, { type: "send_email", queue: "mail", payload: { tags: ["x", "y"] } });
    await expectEnqueued(queue, { type: "send_email" });
    await expectNotEnqueued(queue, { type: "send_email", payload: { to: "other@b.c" } });
    await expectNotEnqueued(queue, { type: "send_email", queue: "default" });
    await expectNotEnqueued(queue, { type: "send_sms" });
    await expectNotEnqueued(queue, { type: "send_email", payload: { tags: ["x"] } });
  });

  it("fail with an AssertionError that lists what was found", async () => {
    const queue = q();
    const { job } = await queue.enqueue("send_email", { to: "a@b.c" });
    const missing = await expectEnqueued(queue, { type: "send_email", payload: { to: "z@b.c" } }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AssertionError);
    expect((missing as Error).message).toBe(
      `Expected a queued job of type \`send_email\` with a payload containing {"to":"z@b.c"}, found none; ` +
        `the queued \`send_email\` jobs are (1, newest first):\n  - ${job.id} queue \`default\` queued payload {"to":"a@b.c"}`,
    );
    const none = await expectEnqueued(queue, { type: "send_sms", queue: "texts" }).catch((e: unknown) => e);
    expect((none as Error).message).toBe("Expected a queued job of type `send_sms` in queue `texts`, found none; there are no queued `send_sms` jobs");
    const present = await expectNotEnqueued(queue, { type: "send_email", payload: { to: "a@b.c" } }).catch((e: unknown) => e);
    expect(present).toBeInstanceOf(AssertionError);
    expect((present as Error).message).toBe(
      `Expected no queued job of type \`send_email\` with a payload containing {"to":"a@b.c"}, found 1:\n  - ${job.id} queue \`default\` queued payload {"to":"a@b.c"}`,
    );
  });

  it("look at other states when asked", async () => {
    const queue = q();
    const { job } = await queue.enqueue("report", { day: 1 });
    await queue.cancel(job.id);
    await expectNotEnqueued(queue, { type: "report" });
    expect((await expectEnqueued(queue, { type: "report", status: ["canceled", "queued"] })).id).toBe(job.id);
  });

  it("validate what they are given", async () => {
    const queue = q();
    await expect(expectEnqueued(queue, { payload: {} } as never)).rejects.toMatchObject({ field: "expected.type" });
    await expect(expectEnqueued(queue, { type: "a", status: "nope" } as never)).rejects.toMatchObject({ field: "expected.status" });
    await expect(expectNotEnqueued(null as never, { type: "a" })).rejects.toMatchObject({ field: "queue" });
  });
});

describe("contains", () => {
  it("matches objects by the keys given, arrays whole, the rest by Object.is", () => {
    expect(contains({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(contains({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(contains([1, { a: 1, b: 2 }], [1, { a: 1 }])).toBe(true);
    expect(contains([1, 2], [1])).toBe(false);
    expect(contains({ a: [1] }, { a: {} })).toBe(false);
    expect(contains(null, {})).toBe(false);
    expect(contains("1", 1)).toBe(false);
    expect(contains(null, null)).toBe(true);
  });
});
