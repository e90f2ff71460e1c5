import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { coerceError } from "../src/errors.js";
import { Worker, type Handlers } from "../src/index.js";
import { failureText } from "../src/worker/executor.js";
import { waitFor } from "./support/db.js";
import { jobRow } from "./support/worker.js";
import { useWorkerBed } from "./support/worker-bed.js";

// Whatever a handler throws or returns, the attempt ends as failed with a
// readable message, the slot comes back, stop() returns, and nothing escapes
// the worker as an uncaught exception or an unhandled rejection.

const bed = useWorkerBed("whostile");

/** Values a handler may throw that broke the worker once, and their kin. */
function hostileValues(): Record<string, () => unknown> {
  const selfRef = Object.create(null) as Record<string, unknown>;
  selfRef.self = selfRef;
  const trapping = new Proxy({}, {
    get: () => {
      throw new Error("get trap");
    },
    getPrototypeOf: () => {
      throw new Error("getPrototypeOf trap");
    },
    ownKeys: () => {
      throw new Error("ownKeys trap");
    },
    has: () => {
      throw new Error("has trap");
    },
  });
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  const numberMessage = new Error("x");
  (numberMessage as { message: unknown }).message = 42;
  const throwingMessage = new Error("x");
  Object.defineProperty(throwingMessage, "message", {
    get() {
      throw new Error("message getter");
    },
  });
  const throwingStack = new Error("readable message");
  Object.defineProperty(throwingStack, "stack", {
    get() {
      throw Object.create(null);
    },
  });
  const throwingName = new TypeError("bad name");
  Object.defineProperty(throwingName, "name", {
    get() {
      throw new Error("name getter");
    },
  });
  const primitiveTraps = {
    [Symbol.toPrimitive]() {
      throw new Error("toPrimitive");
    },
    toString() {
      throw new Error("toString");
    },
    toJSON() {
      throw Object.create(null);
    },
  };
  return {
    "a null-prototype object that refers to itself": () => selfRef,
    "a Proxy whose traps throw": () => trapping,
    "a revoked Proxy": () => revocable.proxy,
    "an Error whose message is a number": () => numberMessage,
    "an Error whose message getter throws": () => throwingMessage,
    "an Error whose stack getter throws": () => throwingStack,
    "an Error whose name getter throws": () => throwingName,
    "an object whose every conversion throws": () => primitiveTraps,
    "a Symbol": () => Symbol("thrown"),
    "a BigInt": () => 10n,
    undefined: () => undefined,
    null: () => null,
  };
}

const escaped: unknown[] = [];
const onEscape = (error: unknown) => void escaped.push(error);
beforeEach(() => {
  escaped.length = 0;
  process.on("unhandledRejection", onEscape);
  process.on("uncaughtException", onEscape);
});
afterEach(() => {
  process.off("unhandledRejection", onEscape);
  process.off("uncaughtException", onEscape);
});

function newWorker(handlers: Handlers): Worker {
  const worker = new Worker(handlers, { connectionString: bed.db.url, schema: bed.db.schema, concurrency: 1, pollIntervalMs: 50 });
  bed.workers.push(worker);
  return worker;
}

describe("a handler that throws a hostile value", () => {
  for (const [name, make] of Object.entries(hostileValues())) {
    it(`${name}: fails the attempt with a readable message, frees the slot, and stops cleanly`, async () => {
      const worker = newWorker({
        hostile: async () => {
          throw make();
        },
        after: async () => "ran",
      });
      const failed: Error[] = [];
      worker.on("job:dead", ({ error }) => void failed.push(error));
      const { job } = await bed.queue.enqueue("hostile", null, { maxAttempts: 1 });
      await worker.start();
      const row = await waitFor(async () => {
        const r = await jobRow(bed.db.pool, bed.db.schema, job.id);
        return r.status === "dead" ? r : undefined;
      }, "the job to end dead");
      expect(typeof row.last_error).toBe("string");
      expect(row.last_error.length).toBeGreaterThan(0);
      expect(row.locked_by).toBeNull();
      await waitFor(() => failed.length === 1, "job:dead");
      expect(typeof failed[0]!.message).toBe("string");
      // The one slot came back: the next job runs.
      const { job: next } = await bed.queue.enqueue("after", null);
      await waitFor(async () => (await jobRow(bed.db.pool, bed.db.schema, next.id)).status === "succeeded", "the next job to succeed");
      await worker.stop();
      expect(escaped).toEqual([]);
    });
  }

  it("a result whose toJSON throws a hostile value fails the attempt too", async () => {
    const worker = newWorker({
      hostile: async () => ({
        toJSON() {
          throw Object.create(null);
        },
      }),
    });
    const { job } = await bed.queue.enqueue("hostile", null, { maxAttempts: 1 });
    await worker.start();
    const row = await waitFor(async () => {
      const r = await jobRow(bed.db.pool, bed.db.schema, job.id);
      return r.status === "dead" ? r : undefined;
    }, "the job to end dead");
    expect(row.last_error).toMatch(/result cannot be stored/);
    await worker.stop();
    expect(escaped).toEqual([]);
  });
});

describe("coerceError and failureText", () => {
  it("turn every hostile value into an Error with a string message, without throwing", () => {
    for (const [name, make] of Object.entries(hostileValues())) {
      const error = coerceError(make());
      expect(error, name).toBeInstanceOf(Error);
      expect(typeof error.message, name).toBe("string");
      const text = failureText(error);
      expect(typeof text.message, name).toBe("string");
      expect(text.message.length, name).toBeGreaterThan(0);
    }
  });

  it("never throw, whatever the value", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true, withBoxedValues: true, withTypedArray: true, withSparseArray: true }), (value) => {
        const error = coerceError(value);
        expect(typeof error.message).toBe("string");
        expect(typeof failureText(error).message).toBe("string");
      }),
    );
  });

  it("keep an ordinary Error as it is, class and all", () => {
    const error = new RangeError("out of range");
    expect(coerceError(error)).toBe(error);
    expect(coerceError("plain text").message).toBe("plain text");
  });
});
