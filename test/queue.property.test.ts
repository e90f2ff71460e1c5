import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { DjpsError, type Queue } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import type { TestSchema } from "./support/db.js";

const bed = useTestBed("pp", { queue: { maxPayloadBytes: 256 * 1024 } });
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

const sqlish = fc.constantFrom(
  "'; DROP TABLE jobs; --",
  '"; DROP SCHEMA djps CASCADE; --',
  "1 OR 1=1",
  "$1",
  "\\x00",
  "jobs\u0000",
  "ṩ̵͉q̷l",
  "\u{1F4A9}",
  "\ud800",
  "__proto__",
  "constructor",
  "a".repeat(129),
  "",
  " ",
  "default",
);
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), sqlish);
const nameLike = fc.oneof({ weight: 1, arbitrary: text }, { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:\/-]{1,20}$/) });

/** Values that are not JSON, or that JSON or jsonb would change. */
const notJson = fc.oneof(
  fc.constant(undefined),
  fc.constant(Number.NaN),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.bigInt().map((b) => b),
  fc.constant(() => 1),
  fc.constant(Symbol("s")),
  fc.constant([1, undefined, 3]),
  fc.constant({ a: { b: Number.NEGATIVE_INFINITY } }),
  fc.constant({ s: "nul\u0000inside" }),
  fc.constant({ ["k\u0000"]: 1 }),
  fc.constant({ lone: "\udc00" }),
  fc.constant(
    (() => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      return cyclic;
    })(),
  ),
);

const protoKeys = fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}'));
const deep = fc.integer({ min: 1, max: 1200 }).map((depth) => {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { d: value };
  return value;
});
const big = fc.integer({ min: 1, max: 400 * 1024 }).map((n) => "x".repeat(n));
const payload = fc.oneof(
  { weight: 5, arbitrary: fc.jsonValue() },
  { weight: 2, arbitrary: notJson },
  { weight: 1, arbitrary: protoKeys },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: big },
  { weight: 1, arbitrary: fc.dictionary(text, fc.oneof(text, fc.double(), fc.integer())) },
);

const anyValue = fc.oneof(fc.anything(), fc.double(), fc.integer(), text, fc.date({ noInvalidDate: false }));
/** Mostly valid values, sometimes anything at all. */
const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
const options = fc.record(
  {
    idempotencyKey: mostly(fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), sqlish)),
    priority: mostly(fc.integer({ min: -40000, max: 40000 })),
    delayMs: mostly(fc.integer({ min: -10, max: 10_000_000 })),
    maxAttempts: mostly(fc.integer({ min: -2, max: 2000 })),
    queue: nameLike,
    timeoutMs: mostly(fc.integer({ min: -1, max: 100_000 })),
  },
  { requiredKeys: [] },
).chain((o) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(o) },
    { weight: 1, arbitrary: fc.date({ noInvalidDate: false }).map((runAt) => ({ ...o, runAt })) },
    { weight: 1, arbitrary: anyValue.map((bogus) => ({ ...o, bogus })) },
  ),
);

/** Plain JSON equality: what went in, as JSON, is what comes out. */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));

async function rowCount(): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs`);
  return rows[0].n;
}

describe("the public API under random and hostile input", () => {
  it("refuses payloads nested deeper than 1000 levels, however deep", async () => {
    for (const depth of [1001, 5000, 200_000]) {
      let value: unknown = 0;
      for (let i = 0; i < depth; i++) value = [value];
      await expect(queue.enqueue("deep", value)).rejects.toThrow(/nested at most 1000 levels deep/);
    }
    let ok: unknown = "x";
    for (let i = 0; i < 999; i++) ok = { a: ok, s: "[[[[{{{{\\\"" };
    const { job } = await queue.enqueue("deep", ok);
    expect(JSON.stringify((await queue.getJob(job.id))!.payload).length).toBe(JSON.stringify(ok).length);
  });

  it("enqueue either stores the job exactly or throws a DjpsError, and writes nothing then", async () => {
    let stored = await rowCount();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(nameLike, payload, fc.option(options, { nil: undefined }), async (type, value, opts) => {
        let result;
        try {
          result = await queue.enqueue(type, value, opts as never);
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(DjpsError);
          expect(await rowCount()).toBe(stored);
          return;
        }
        accepted++;
        if (result.created) stored++;
        expect(await rowCount()).toBe(stored);
        const job = await queue.getJob(result.job.id);
        expect(job).not.toBeNull();
        expect(job!.type).toBe(type);
        if (result.created) {
          expect(job!.payload).toEqual(asJson(value));
          const o = (opts ?? {}) as Record<string, unknown>;
          expect(job!.queue).toBe(o.queue ?? "default");
          expect(job!.priority).toBe(o.priority ?? 0);
          expect(job!.maxAttempts).toBe(o.maxAttempts ?? 3);
          expect(job!.idempotencyKey).toBe(o.idempotencyKey ?? null);
          expect(job!.status).toBe("queued");
        }
      }),
      { numRuns: 300 },
    );
    // The generators lean valid, so the success path is exercised too.
    expect(accepted).toBeGreaterThan(30);
  });

  it("enqueueMany is all or nothing: every item stored exactly, or a DjpsError and no row", async () => {
    let stored = await rowCount();
    const item = fc.record({ type: nameLike, payload: fc.oneof(fc.jsonValue(), notJson), options: fc.option(options, { nil: undefined }) }, { requiredKeys: ["type", "payload"] });
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 20 }), async (items) => {
        let results;
        try {
          results = await queue.enqueueMany(items as never);
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(DjpsError);
          expect(await rowCount()).toBe(stored);
          return;
        }
        expect(results).toHaveLength(items.length);
        stored += results.filter((r) => r.created).length;
        expect(await rowCount()).toBe(stored);
        results.forEach((r, i) => {
          expect(r.job.type).toBe(items[i]!.type);
          if (r.created) expect(r.job.payload).toEqual(asJson(items[i]!.payload));
        });
      }),
      { numRuns: 150 },
    );
  });

  it("get, cancel, retry and listJobs take any id or filter without leaking a non-DjpsError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(text, fc.uuid(), anyValue), anyValue, async (id, filter) => {
        for (const call of [
          () => queue.getJob(id as string),
          () => queue.cancel(id as string),
          () => queue.retry(id as string),
          () => queue.listJobs(filter as never),
          () => queue.listJobs({ cursor: id as string }),
        ]) {
          try {
            await call();
          } catch (error) {
            expect(error, String(error)).toBeInstanceOf(DjpsError);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
