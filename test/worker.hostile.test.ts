import { trace, type Span, type Tracer, type TracerProvider } from "@opentelemetry/api";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { coerceError } from "../src/errors.js";
import type { Handlers, Logger } from "../src/index.js";
import { failureText } from "../src/worker/executor.js";
import { waitFor } from "./support/db.js";
import { jobRow } from "./support/worker.js";
import { useTestBed } from "./support/bed.js";

// Whatever a handler throws or returns, the attempt ends as failed with a
// readable message, the slot comes back, stop() returns, and nothing escapes
// the worker as an uncaught exception or an unhandled rejection. The same
// holds when what the worker calls around the handler throws: the logger,
// event listeners, the tracer.

const bed = useTestBed("whostile", { worker: { concurrency: 1, pollIntervalMs: 50 } });

/** A Proxy every one of whose traps throws the Proxy itself. */
function selfThrowingProxy(): object {
  const proxy: object = new Proxy(
    {},
    {
      get: () => {
        throw proxy;
      },
      getPrototypeOf: () => {
        throw proxy;
      },
      ownKeys: () => {
        throw proxy;
      },
      has: () => {
        throw proxy;
      },
      getOwnPropertyDescriptor: () => {
        throw proxy;
      },
    },
  );
  return proxy;
}

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
    valueOf() {
      throw new Error("valueOf");
    },
    toJSON() {
      throw Object.create(null);
    },
  };
  return {
    "a null-prototype object that refers to itself": () => selfRef,
    "a Proxy whose traps throw": () => trapping,
    "a Proxy whose traps throw the Proxy": selfThrowingProxy,
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

/**
 * What escaped the worker, as text: the values themselves may be hostile, and
 * printing them in a failed assertion would trip over them.
 */
const escaped: string[] = [];
const onEscape = (error: unknown) => {
  let text: string = typeof error;
  try {
    text = String(error instanceof Error ? error.stack : error);
  } catch {
    // left as its type
  }
  escaped.push(text);
};
beforeEach(() => {
  escaped.length = 0;
  process.on("unhandledRejection", onEscape);
  process.on("uncaughtException", onEscape);
});
afterEach(() => {
  process.off("unhandledRejection", onEscape);
  process.off("uncaughtException", onEscape);
});

/** Waits until the job is in one of `statuses`; returns its row. */
async function rowWhen(id: string, ...statuses: string[]): Promise<any> {
  return waitFor(async () => {
    const row = await jobRow(bed.db.pool, bed.db.schema, id);
    return statuses.includes(row.status) ? row : undefined;
  }, `job ${id} to be ${statuses.join(" or ")}`);
}

/** Enqueues an `after` job and waits for it to succeed: the worker's one slot came back. */
async function slotCameBack(): Promise<void> {
  const { job } = await bed.queue.enqueue("after", null);
  await rowWhen(job.id, "succeeded");
}

describe("a handler that throws a hostile value", () => {
  for (const [name, make] of Object.entries(hostileValues())) {
    it(`${name}: fails the attempt with a readable message, frees the slot, and stops cleanly`, async () => {
      const worker = bed.worker({
        hostile: async () => {
          throw make();
        },
        after: async () => "ran",
      });
      const failed: Error[] = [];
      worker.on("job:dead", ({ error }) => void failed.push(error));
      const { job } = await bed.queue.enqueue("hostile", null, { maxAttempts: 1 });
      await worker.start();
      const row = await rowWhen(job.id, "dead");
      expect(typeof row.last_error).toBe("string");
      expect(row.last_error.length).toBeGreaterThan(0);
      expect(row.locked_by).toBeNull();
      await waitFor(() => failed.length === 1, "job:dead");
      expect(failed[0]).toBeInstanceOf(Error);
      expect(typeof failed[0]!.message).toBe("string");
      await slotCameBack();
      await worker.stop();
      expect(escaped).toEqual([]);
    });
  }

  it("a Proxy around an Error that answers once: the message read first is the one stored and announced", async () => {
    let reads = 0;
    const shifty: Error = new Proxy(new Error("first read"), {
      get(target, key, receiver) {
        if (key === "message" && reads++ > 0) throw shifty;
        return Reflect.get(target, key, receiver);
      },
    });
    const worker = bed.worker({
      hostile: async () => {
        throw shifty;
      },
      after: async () => "ran",
    });
    const failed: Error[] = [];
    worker.on("job:failed", ({ error }) => void failed.push(error));
    const { job } = await bed.queue.enqueue("hostile", null, { maxAttempts: 2 });
    await worker.start();
    const row = await rowWhen(job.id, "failed");
    expect(row.last_error).toBe("first read");
    await waitFor(() => failed.length === 1, "job:failed");
    expect(failed[0]).toBeInstanceOf(Error);
    expect(failed[0]!.message).toBe("first read");
    await slotCameBack();
    await worker.stop();
    expect(escaped).toEqual([]);
  });

  it("ctx.snooze() with a hostile delay fails the attempt, saying what a delay must be", async () => {
    const values = hostileValues();
    const names = ["a null-prototype object that refers to itself", "a Proxy whose traps throw the Proxy", "a revoked Proxy", "a Symbol"];
    const worker = bed.worker({
      snoozer: async (p, ctx) => ctx.snooze(values[(p as { name: string }).name]!() as number),
      after: async () => "ran",
    });
    const ids = [];
    for (const name of names) ids.push((await bed.queue.enqueue("snoozer", { name }, { maxAttempts: 1 })).job.id);
    await worker.start();
    for (const id of ids) expect((await rowWhen(id, "dead")).last_error).toMatch(/^Expected the snooze delay to be a number of milliseconds/);
    await slotCameBack();
    await worker.stop();
    expect(escaped).toEqual([]);
  });
});

describe("a handler that returns a hostile value", () => {
  it("a result whose toJSON throws fails the job for good, saying the result cannot be stored", async () => {
    const throwers: Record<string, () => unknown> = { ...hostileValues(), "a Proxy whose traps throw the Proxy": selfThrowingProxy };
    const worker = bed.worker({
      hostile: async (p) => ({
        toJSON() {
          throw throwers[(p as { name: string }).name]!();
        },
      }),
      after: async () => "ran",
    });
    const ids = [];
    for (const name of Object.keys(throwers)) ids.push((await bed.queue.enqueue("hostile", { name }, { maxAttempts: 3 })).job.id);
    await worker.start();
    for (const id of ids) {
      const row = await rowWhen(id, "dead", "failed");
      // Permanent: storing the same result would fail again on every retry.
      expect(row, `${JSON.stringify(row.payload)}: ${row.last_error}`).toMatchObject({ status: "dead", attempts: 1 });
      expect(row.last_error).toMatch(/^The handler's result cannot be stored: ./);
    }
    await slotCameBack();
    await worker.stop();
    expect(escaped).toEqual([]);
  });

  it("a thenable that throws from then, from its getter, or resolves to a hostile result fails the attempt", async () => {
    const worker = bed.worker({
      throwsInThen: () => ({
        then() {
          throw selfThrowingProxy();
        },
      }),
      throwingGetter: () => ({
        get then() {
          throw selfThrowingProxy();
        },
      }),
      rejectsTwice: () => ({
        then(_resolve: unknown, reject: (e: unknown) => void) {
          reject(selfThrowingProxy());
          reject(Object.create(null));
        },
      }),
      resolvesHostile: () => ({
        then(resolve: (v: unknown) => void) {
          resolve(selfThrowingProxy());
        },
      }),
      after: async () => "ran",
    } as Handlers);
    const ids = [];
    for (const type of ["throwsInThen", "throwingGetter", "rejectsTwice", "resolvesHostile"]) {
      ids.push((await bed.queue.enqueue(type, null, { maxAttempts: 1 })).job.id);
    }
    await worker.start();
    for (const id of ids) {
      const row = await rowWhen(id, "dead");
      expect(typeof row.last_error).toBe("string");
      expect(row.last_error.length).toBeGreaterThan(0);
    }
    await slotCameBack();
    await worker.stop();
    expect(escaped).toEqual([]);
  });
});

describe("what runs around the handler throws", () => {
  it("a logger whose every method throws, and listeners that throw: jobs still end, events still fire", async () => {
    // Plain errors from the logger: what is under test is that it throws at all.
    const broken = () => {
      throw new Error("the logger broke");
    };
    const logger: Logger = { debug: broken, info: broken, warn: broken, error: broken };
    const fail = () => {
      throw selfThrowingProxy();
    };
    const worker = bed.worker(
      {
        fails: async () => {
          throw new Error("plain failure");
        },
        after: async () => "ran",
      },
      { logger },
    );
    worker.on("job:started", fail);
    const failed: Error[] = [];
    worker.on("job:failed", ({ error }) => void failed.push(error));
    worker.on("job:failed", fail);
    const { job } = await bed.queue.enqueue("fails", null, { maxAttempts: 2 });
    await worker.start();
    expect((await rowWhen(job.id, "failed")).last_error).toBe("plain failure");
    await waitFor(() => failed.length === 1, "job:failed");
    expect(failed[0]!.message).toBe("plain failure");
    await slotCameBack();
    await worker.stop();
    expect(escaped).toEqual([]);
  });

  describe("a tracer that throws", () => {
    afterEach(() => trace.disable());

    /** A span whose every operation that reports something throws. */
    const brokenSpan = (): Span =>
      ({
        spanContext: () => ({ traceId: "1".repeat(32), spanId: "1".repeat(16), traceFlags: 1 }),
        isRecording: () => true,
        setAttribute() {
          return this;
        },
        setAttributes() {
          return this;
        },
        addEvent() {
          return this;
        },
        updateName() {
          return this;
        },
        setStatus: () => {
          throw new Error("setStatus broke");
        },
        recordException: () => {
          throw new Error("recordException broke");
        },
        end: () => {
          throw new Error("end broke");
        },
      }) as unknown as Span;

    const providerOf = (startSpan: () => Span): TracerProvider => ({
      getTracer: () => ({ startSpan, startActiveSpan: () => undefined }) as unknown as Tracer,
    });

    for (const [name, startSpan] of [
      ["whose spans throw when ended or told of a failure", brokenSpan],
      [
        "whose startSpan throws",
        () => {
          throw new Error("startSpan broke");
        },
      ],
    ] as const) {
      it(`${name}: the outcome is the handler's, not the tracer's`, async () => {
        const worker = bed.worker({
          ok: async () => "the result",
          fails: async () => {
            throw new Error("the handler's own failure");
          },
          after: async () => "ran",
        });
        // Enqueued before the tracer is in place: the Queue's producer spans are not under test here.
        const ok = (await bed.queue.enqueue("ok", null)).job.id;
        const fails = (await bed.queue.enqueue("fails", null, { maxAttempts: 2 })).job.id;
        const after = (await bed.queue.enqueue("after", null)).job.id;
        trace.setGlobalTracerProvider(providerOf(startSpan));
        await worker.start();
        expect(await rowWhen(ok, "succeeded", "failed", "dead")).toMatchObject({ status: "succeeded", result: "the result" });
        expect(await rowWhen(fails, "failed", "dead")).toMatchObject({ status: "failed", last_error: "the handler's own failure" });
        // The one slot came back after both.
        await rowWhen(after, "succeeded");
        await worker.stop();
        expect(escaped).toEqual([]);
      });
    }
  });
});

describe("coerceError and failureText", () => {
  it("turn every hostile value into an Error with a string message, without throwing", () => {
    for (const [name, make] of Object.entries(hostileValues())) {
      const error = coerceError(make());
      expect(error, name).toBeInstanceOf(Error);
      expect(typeof error.message, name).toBe("string");
      // Read twice: what comes back answers the same every time.
      expect(error.message, name).toBe(error.message);
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

  it("never hand back a Proxy, whose answers may change from one read to the next", () => {
    const wrapped = new Proxy(new Error("inside"), {});
    const error = coerceError(wrapped);
    expect(error).not.toBe(wrapped);
    expect(error.message).toBe("inside");
    expect(error.cause).toBe(wrapped);
  });
});
