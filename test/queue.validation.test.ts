import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, DjpsError, Queue, ValidationError } from "../src/index.js";
import { useTestBed } from "./support/bed.js";
import type { TestSchema } from "./support/db.js";

const bed = useTestBed("qv");
let db: TestSchema;
let queue: Queue;
beforeAll(() => void ({ db, queue } = bed));

async function rows(): Promise<number> {
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".jobs`);
  return rows[0].n;
}

/** Runs `call`, expects a ValidationError for `field` with a message matching `message`, and that nothing was written. */
async function refused(call: () => Promise<unknown>, field: string, message: string | RegExp): Promise<ValidationError> {
  const before = await rows();
  const error = await call().then(
    (value) => {
      throw new Error(`expected a ValidationError for ${field}, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect(error).toBeInstanceOf(DjpsError);
  const v = error as ValidationError;
  expect(v.code).toBe("VALIDATION");
  expect(v.name).toBe("ValidationError");
  expect(v.field).toBe(field);
  if (typeof message === "string") expect(v.message).toBe(message);
  else expect(v.message).toMatch(message);
  expect(v.message).not.toContain("\n");
  expect(await rows()).toBe(before);
  return v;
}

const NAME = "a name of 1 to 128 characters from letters, digits and `_ . : - /`";
const OPTION_KEYS = "`idempotencyKey`, `priority`, `delayMs`, `runAt`, `maxAttempts`, `queue`, `group`, `timeoutMs`, `client`";

describe("enqueue refuses bad input before any SQL runs", () => {
  it.each([
    [1, "`1` (number)"],
    ["", '`""` (string)'],
    ["has space", '`"has space"` (string)'],
    ["semi;colon", '`"semi;colon"` (string)'],
    ["x".repeat(129), /^`"x{56}\.\.\.` \(string\)$/],
    [null, "`null`"],
    [undefined, "`undefined`"],
  ] as const)("a bad job type %j", async (type, got) => {
    const error = await refused(() => queue.enqueue(type as string, {}), "type", /^Expected `type` to be a name of 1 to 128/);
    const shown = error.message.slice(`Expected \`type\` to be ${NAME}, got `.length);
    if (typeof got === "string") expect(shown).toBe(got);
    else expect(shown).toMatch(got);
  });

  it.each(["", "a b", "émails", "q\u0000", "x".repeat(129), "drop;table"])("a bad queue name %j", async (name) => {
    await refused(() => queue.enqueue("t", {}, { queue: name }), "options.queue", new RegExp(`^Expected \`options.queue\` to be ${NAME.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}, got `));
  });

  it("a priority that is not an integer or out of range", async () => {
    await refused(
      () => queue.enqueue("t", {}, { priority: 1.5 }),
      "options.priority",
      "Expected `options.priority` to be an integer from -32768 to 32767, got `1.5` (number)",
    );
    await refused(
      () => queue.enqueue("t", {}, { priority: 32768 }),
      "options.priority",
      "Expected `options.priority` to be an integer from -32768 to 32767, got `32768` (number)",
    );
    await refused(() => queue.enqueue("t", {}, { priority: -32769 }), "options.priority", /got `-32769` \(number\)$/);
    await refused(() => queue.enqueue("t", {}, { priority: "5" as never }), "options.priority", /got `"5"` \(string\)$/);
    await refused(() => queue.enqueue("t", {}, { priority: Number.NaN }), "options.priority", /got `NaN` \(number\)$/);
  });

  it("a negative or fractional delayMs", async () => {
    await refused(
      () => queue.enqueue("t", {}, { delayMs: -1 }),
      "options.delayMs",
      "Expected `options.delayMs` to be an integer from 0 to 315360000000, got `-1` (number)",
    );
    await refused(() => queue.enqueue("t", {}, { delayMs: 0.5 }), "options.delayMs", /got `0.5` \(number\)$/);
    await refused(() => queue.enqueue("t", {}, { delayMs: Number.POSITIVE_INFINITY }), "options.delayMs", /got `Infinity` \(number\)$/);
  });

  it("both delayMs and runAt", async () => {
    const runAt = new Date("2030-01-01T00:00:00.000Z");
    await refused(
      () => queue.enqueue("t", {}, { delayMs: 10, runAt }),
      "options.runAt",
      "Expected `options.runAt` to be given only when `delayMs` is not (pass one of `delayMs` and `runAt`), got `2030-01-01T00:00:00.000Z` (Date)",
    );
  });

  it("an invalid Date or a date that is not a Date", async () => {
    await refused(
      () => queue.enqueue("t", {}, { runAt: new Date("not a date") }),
      "options.runAt",
      "Expected `options.runAt` to be a valid Date from 4713 BC on (PostgreSQL's range), got `Invalid Date` (Date)",
    );
    await refused(
      () => queue.enqueue("t", {}, { runAt: "2030-01-01" as never }),
      "options.runAt",
      "Expected `options.runAt` to be a valid Date from 4713 BC on (PostgreSQL's range), got `\"2030-01-01\"` (string)",
    );
    // Before PostgreSQL's earliest timestamp: refused here, not by the server.
    await refused(
      () => queue.enqueue("t", {}, { runAt: new Date(-210_866_803_200_001) }),
      "options.runAt",
      "Expected `options.runAt` to be a valid Date from 4713 BC on (PostgreSQL's range), got `-004713-11-23T23:59:59.999Z` (Date)",
    );
    await refused(
      () => queue.enqueueMany([{ type: "t", payload: 1 }, { type: "t", payload: 2, options: { runAt: new Date(-8.64e15) } }]),
      "items.1.options.runAt",
      /^Expected `items.1.options.runAt` to be a valid Date from 4713 BC on/,
    );
    const { job: earliest } = await queue.enqueue("t", {}, { runAt: new Date(-210_866_803_200_000) });
    expect(earliest.runAt.getTime()).toBe(-210_866_803_200_000);
    await queue.cancel(earliest.id);
    await db.pool.query(`DELETE FROM "${db.schema}".jobs WHERE id = $1`, [earliest.id]);
    await refused(() => queue.enqueue("t", {}, { runAt: Date.now() as never }), "options.runAt", /to be a valid Date from 4713 BC on \(PostgreSQL's range\), got `\d+` \(number\)$/);
  });

  it("maxAttempts below 1 or too large, timeoutMs below 1", async () => {
    await refused(
      () => queue.enqueue("t", {}, { maxAttempts: 0 }),
      "options.maxAttempts",
      "Expected `options.maxAttempts` to be an integer from 1 to 1000, got `0` (number)",
    );
    await refused(() => queue.enqueue("t", {}, { maxAttempts: 1001 }), "options.maxAttempts", /got `1001` \(number\)$/);
    await refused(
      () => queue.enqueue("t", {}, { timeoutMs: 0 }),
      "options.timeoutMs",
      "Expected `options.timeoutMs` to be an integer from 1 to 2147483647, got `0` (number)",
    );
  });

  it("bad idempotency keys", async () => {
    await refused(
      () => queue.enqueue("t", {}, { idempotencyKey: "" }),
      "options.idempotencyKey",
      'Expected `options.idempotencyKey` to be a string of 1 to 512 characters, got `""` (string)',
    );
    await refused(() => queue.enqueue("t", {}, { idempotencyKey: "k".repeat(513) }), "options.idempotencyKey", /a string of 1 to 512 characters, got/);
    await refused(() => queue.enqueue("t", {}, { idempotencyKey: 42 as never }), "options.idempotencyKey", /got `42` \(number\)$/);
    await refused(() => queue.enqueue("t", {}, { idempotencyKey: "a\u0000b" }), "options.idempotencyKey", /without NUL or lone surrogates, got/);
    await refused(() => queue.enqueue("t", {}, { idempotencyKey: "\udc00" }), "options.idempotencyKey", /without NUL or lone surrogates, got/);
  });

  it("an unknown option (a typo), with a suggestion", async () => {
    await refused(
      () => queue.enqueue("t", {}, { priorty: 5 } as never),
      "options.priorty",
      `Expected the keys of \`options\` to be one of ${OPTION_KEYS}, got unknown \`priorty\` (did you mean \`priority\`?)`,
    );
    await refused(() => queue.enqueue("t", {}, { delay: 5 } as never), "options.delay", /got unknown `delay` \(did you mean `delayMs`\?\)$/);
    await refused(() => queue.enqueue("t", {}, { maxattempts: 5 } as never), "options.maxattempts", /\(did you mean `maxAttempts`\?\)$/);
    await refused(() => queue.enqueue("t", {}, { somethingElse: 1 } as never), "options.somethingElse", /got unknown `somethingElse`$/);
  });

  it("options that are not an object, and a client without query()", async () => {
    await refused(() => queue.enqueue("t", {}, null as never), "options", "Expected `options` to be an options object, got `null`");
    await refused(() => queue.enqueue("t", {}, "emails" as never), "options", 'Expected `options` to be an options object, got `"emails"` (string)');
    await refused(
      () => queue.enqueue("t", {}, { client: {} as never }),
      "options.client",
      "Expected `options.client` to be a client with a query(text, values) method, got `{}` (object)",
    );
  });
});

/** A Proxy every trap of which throws, as hostile code may throw or pass one. */
function hostileProxy(): object {
  const trap = () => {
    throw new Error("trap");
  };
  return new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap, has: trap, getOwnPropertyDescriptor: trap });
}

/** A TypeError whose `message` getter throws. */
function unreadableError(): Error {
  const error = new TypeError("hidden");
  Object.defineProperty(error, "message", {
    get() {
      throw new Error("no message for you");
    },
  });
  return error;
}

describe("payloads that are not JSON", () => {
  const cyclic: Record<string, unknown> = { a: { b: [] as unknown[] } };
  ((cyclic.a as { b: unknown[] }).b as unknown[]).push(cyclic.a);
  const shared = { x: 2n };

  it.each([
    ["a BigInt", { n: 1n }, "payload.n", "Expected `payload.n` to be JSON-serialisable, got `1n` (bigint)"],
    ["a BigInt at the top", 10n, "payload", "Expected `payload` to be JSON-serialisable, got `10n` (bigint)"],
    ["a function", { f: function named() {} }, "payload.f", /^Expected `payload.f` to be JSON-serialisable, got `function named\(\) \{\}` \(function\)$/],
    ["a symbol in an array", [Symbol("s")], "payload.0", "Expected `payload.0` to be JSON-serialisable, got `Symbol(s)` (symbol)"],
    ["NaN", { deep: { n: Number.NaN } }, "payload.deep.n", "Expected `payload.deep.n` to be JSON (a finite number), got `NaN` (number)"],
    ["Infinity", [1, Number.POSITIVE_INFINITY], "payload.1", "Expected `payload.1` to be JSON (a finite number), got `Infinity` (number)"],
    ["-Infinity at the top", Number.NEGATIVE_INFINITY, "payload", "Expected `payload` to be JSON (a finite number), got `-Infinity` (number)"],
    ["a circular reference", cyclic, "payload.a.b.0", "Expected `payload.a.b.0` to be JSON (no circular references), got a reference back to `payload.a`"],
    ["undefined at the top", undefined, "payload", "Expected `payload` to be JSON-serialisable, got `undefined`"],
    ["undefined in an array", { list: [1, undefined] }, "payload.list.1", "Expected `payload.list.1` to be JSON (no undefined in arrays), got `undefined`"],
    ["a NUL in a string", { s: "a\u0000b" }, "payload.s", 'Expected `payload.s` to be JSON (strings without NUL characters or lone surrogates), got `"a\\u0000b"` (string)'],
    ["a lone surrogate", ["ok", "\ud83d"], "payload.1", 'Expected `payload.1` to be JSON (strings without NUL characters or lone surrogates), got `"\\ud83d"` (string)'],
    ["a NUL in a key", { outer: { ["k\u0000"]: 1 } }, "payload.outer", 'Expected `payload.outer` to be JSON with keys without NUL characters or lone surrogates, got `"k\\u0000"` (string)'],
    ["a BigInt in an object reached twice", { p: { q: shared }, r: shared }, "payload.p.q.x", "Expected `payload.p.q.x` to be JSON-serialisable, got `2n` (bigint)"],
    ["a throwing toJSON", { toJSON: () => { throw new Error("no\nway"); } }, "payload", "Expected `payload` to be JSON-serialisable, got an error from it: no"],
    ["a toJSON throwing a null-prototype object", { toJSON: () => { throw Object.create(null); } }, "payload", "Expected `payload` to be JSON-serialisable, got an error from it: `{}` (object)"],
    ["a toJSON throwing a RangeError", { at: { toJSON: () => { throw new RangeError("Invalid time value"); } } }, "payload", "Expected `payload` to be JSON-serialisable, got an error from it: Invalid time value"],
    ["a toJSON that overflows the stack on its own", { toJSON: function again(): unknown { return again(); } }, "payload", "Expected `payload` to be JSON-serialisable, got an error from it: Maximum call stack size exceeded"],
    ["a getter throwing a Proxy whose traps throw", { get bad() { throw hostileProxy(); } }, "payload", "Expected `payload` to be JSON-serialisable, got an error from it: `[unprintable value]` (object)"],
    ["a toJSON throwing an Error whose message getter throws", { toJSON: () => { throw unreadableError(); } }, "payload", "Expected `payload` to be JSON-serialisable, got an error from it: TypeError without a readable message"],
    ["a Proxy whose traps throw", hostileProxy(), "payload", "Expected `payload` to be JSON-serialisable, got an error from it: trap"],
    ["a Map", { m: new Map([["a", 1]]) }, "payload.m", "Expected `payload.m` to be JSON, got a Map, which JSON would store as `{}` (convert it first, e.g. `Object.fromEntries(map)`)"],
    ["a Set in an array", [1, new Set([1])], "payload.1", "Expected `payload.1` to be JSON, got a Set, which JSON would store as `{}` (convert it first, e.g. `[...set]`)"],
    ["a WeakMap", { w: new WeakMap() }, "payload.w", /^Expected `payload.w` to be JSON, got a WeakMap, which JSON would store as `\{\}`/],
    ["a Promise", { p: Promise.resolve(1) }, "payload.p", "Expected `payload.p` to be JSON, got a Promise, which JSON would store as `{}` (await it first)"],
    ["a RegExp", { r: /x/g }, "payload.r", /^Expected `payload.r` to be JSON, got a RegExp, which JSON would store as `\{\}`/],
    ["an Error", { e: new Error("boom") }, "payload.e", "Expected `payload.e` to be JSON, got an Error, which JSON would store as an object without its message (pass e.g. `{ name, message }` instead)"],
    ["a typed array", { bytes: new Uint8Array(4) }, "payload.bytes", /^Expected `payload.bytes` to be JSON, got a typed array or DataView, which JSON would store as an object of indexes/],
    ["an ArrayBuffer from a toJSON", { toJSON: () => new ArrayBuffer(2) }, "payload", /^Expected `payload` to be JSON, got an ArrayBuffer/],
  ] as const)("%s", async (_, payload, field, message) => {
    await refused(() => queue.enqueue("t", payload), field, message);
    const inBatch = typeof message === "string" ? message.replaceAll("`payload", "`items.1.payload") : new RegExp(message.source.replaceAll("`payload", "`items.1.payload"));
    await refused(() => queue.enqueueMany([{ type: "t", payload: 1 }, { type: "t", payload }]), field.replace(/^payload/, "items.1.payload"), inBatch);
  });

  it("still accepts a valid surrogate pair, a Date (as its ISO string) and toJSON", async () => {
    const { job } = await queue.enqueue("t", { emoji: "\ud83d\ude00", at: new Date("2020-01-01T00:00:00Z"), custom: { toJSON: () => [1] } });
    expect(job.payload).toEqual({ emoji: "\u{1F600}", at: "2020-01-01T00:00:00.000Z", custom: [1] });
  });

  it("stores class instances by their own enumerable properties, a Buffer by its toJSON, and a null-prototype object", async () => {
    class Point {
      constructor(readonly x: number, readonly y: number) {}
      get sum() {
        return this.x + this.y;
      }
    }
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    const { job } = await queue.enqueue("t", { point: new Point(1, 2), empty: new (class Empty {})(), bytes: Buffer.from("hi"), bare });
    const { rows: stored } = await db.pool.query(`SELECT payload FROM "${db.schema}".jobs WHERE id = $1`, [job.id]);
    expect(stored[0].payload).toEqual({ point: { x: 1, y: 2 }, empty: {}, bytes: { type: "Buffer", data: [104, 105] }, bare: { a: 1 } });
  });

  it("a payload larger than maxPayloadBytes (default 1 MiB)", async () => {
    const max = 1024 * 1024;
    // {"s":"..."} is 8 bytes around the string.
    const { job } = await queue.enqueue("t", { s: "x".repeat(max - 8) });
    expect(((job.payload as { s: string }).s).length).toBe(max - 8);
    await refused(
      () => queue.enqueue("t", { s: "x".repeat(max - 7) }),
      "payload",
      `Expected \`payload\` to be at most ${max} bytes of JSON, got ${max + 1} bytes`,
    );
    // Bytes, not characters: each é is two bytes in UTF-8.
    await refused(() => queue.enqueue("t", { s: "é".repeat(max / 2) }), "payload", /at most 1048576 bytes of JSON, got \d+ bytes$/);

    const small = new Queue({ connectionString: db.url, schema: db.schema, maxPayloadBytes: 16 });
    try {
      await small.enqueue("t", "x".repeat(14)); // 16 bytes with the quotes
      const before = await rows();
      const error = await small.enqueue("t", "x".repeat(15)).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe("Expected `payload` to be at most 16 bytes of JSON, got 17 bytes");
      expect(await rows()).toBe(before);
      await expect(small.enqueueMany([{ type: "t", payload: "x".repeat(15) }])).rejects.toThrow(
        "Expected `items.0.payload` to be at most 16 bytes of JSON, got 17 bytes",
      );
    } finally {
      await small.close();
    }
  });
});

describe("enqueueMany refuses bad input and writes nothing", () => {
  it("items that are not an array of items", async () => {
    await refused(() => queue.enqueueMany({} as never), "items", "Expected `items` to be an array of { type, payload, options }, got `{}` (object)");
    await refused(
      () => queue.enqueueMany([{ type: "t", payload: 1 }, 5 as never]),
      "items.1",
      "Expected `items.1` to be an object with `type`, `payload` and optional `options`, got `5` (number)",
    );
    await refused(() => queue.enqueueMany([{ type: "t" } as never]), "items.0.payload", "Expected `items.0.payload` to be JSON-serialisable, got `undefined`");
    await refused(() => queue.enqueueMany([{ type: "bad type", payload: 1 }]), "items.0.type", /^Expected `items.0.type` to be a name/);
    await refused(
      () => queue.enqueueMany([{ type: "t", payload: 1, option: {} } as never]),
      "items.0.option",
      "Expected the keys of `items.0` to be one of `type`, `payload`, `options`, got unknown `option` (did you mean `options`?)",
    );
    await refused(
      () => queue.enqueueMany([{ type: "t", payload: 1, options: { delayMs: 1, runAt: new Date(0) } }]),
      "items.0.options.runAt",
      /^Expected `items.0.options.runAt` to be given only when `delayMs` is not/,
    );
    await refused(
      () => queue.enqueueMany([{ type: "t", payload: 1, options: { queue: "x", quue: 1 } as never }]),
      "items.0.options.quue",
      /^Expected the keys of `items.0.options` to be one of `idempotencyKey`, .*`timeoutMs`, got unknown `quue` \(did you mean `queue`\?\)$/,
    );
    await refused(
      () => queue.enqueueMany([], { clinet: 1 } as never),
      "options.clinet",
      "Expected the keys of `options` to be one of `client`, got unknown `clinet` (did you mean `client`?)",
    );
  });
});

describe("other methods refuse bad input", () => {
  it("listJobs names the statuses it takes", async () => {
    const expected = "a status (queued, running, succeeded, failed, canceled, dead) or an array of them";
    await refused(() => queue.listJobs({ status: "nope" as never }), "options.status", `Expected \`options.status\` to be ${expected}, got \`"nope"\` (string)`);
    await refused(() => queue.listJobs({ status: ["queued", "nope"] as never }), "options.status", new RegExp(`to be ${expected.replace(/[()]/g, "\\$&")}, got`));
    await refused(() => queue.listJobs({ status: 7 as never }), "options.status", `Expected \`options.status\` to be ${expected}, got \`7\` (number)`);
  });

  it("dead-letter filters refuse a time before PostgreSQL's range", async () => {
    const ancient = new Date(-210_866_803_200_001);
    const message = /to be a valid Date from 4713 BC on \(PostgreSQL's range\), got `-004713-11-23T23:59:59.999Z` \(Date\)$/;
    await refused(() => queue.retryDead({ finishedAfter: ancient }), "filter.finishedAfter", message);
    await refused(() => queue.purgeDead({ finishedBefore: ancient }), "filter.finishedBefore", message);
  });

  it("getJob, cancel and retry check the id and their options", async () => {
    for (const call of [(id: string) => queue.getJob(id), (id: string) => queue.cancel(id), (id: string) => queue.retry(id)]) {
      await refused(() => call("not-a-uuid"), "id", 'Expected `id` to be a job id (a UUID string), got `"not-a-uuid"` (string)');
      await refused(() => call(undefined as never), "id", "Expected `id` to be a job id (a UUID string), got `undefined`");
    }
    await refused(() => queue.getJob("01890a5d-ac96-774b-bcce-b302099a8057", { cleint: 1 } as never), "options.cleint", /did you mean `client`/);
  });
});

describe("the constructor", () => {
  it("refuses a system schema, naming the option", () => {
    for (const schema of ["information_schema", "pg_catalog", "pg_temp"]) {
      expect(() => new Queue({ connectionString: db.url, schema })).toThrow(
        new ValidationError("options.schema", `Expected \`options.schema\` to be a schema of its own, not a system schema (\`pg_*\` or \`information_schema\`), got \`"${schema}"\` (string)`),
      );
    }
  });

  it("needs a database: no connection string, no pool and no DATABASE_URL is a ConfigError", () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      const error = (() => {
        try {
          new Queue({ schema: db.schema });
        } catch (e) {
          return e as ConfigError;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toBeInstanceOf(DjpsError);
      expect(error!.code).toBe("CONFIG");
      expect(error!.message).toBe(
        "No database to connect to: pass `connectionString` or `pool`, or set the DATABASE_URL environment variable",
      );
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });

  it("uses DATABASE_URL when nothing else is given", async () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
    const q = new Queue({ schema: db.schema });
    try {
      const { job } = await q.enqueue("from_env", {});
      expect((await db.pool.query(`SELECT type FROM "${db.schema}".jobs WHERE id = $1`, [job.id])).rows).toEqual([{ type: "from_env" }]);
    } finally {
      await q.close();
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });

  const construct = (options: unknown) => {
    try {
      new Queue(options as never);
    } catch (e) {
      return e as ValidationError;
    }
    throw new Error("expected the constructor to throw");
  };

  it.each([
    ['x"; DROP TABLE jobs; --'],
    ["Upper"],
    ["1abc"],
    [""],
    ["a".repeat(41)],
    ["djps.jobs"],
    [7],
  ])("refuses the hostile or odd schema name %j", (schema) => {
    const error = construct({ connectionString: db.url, schema });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe("options.schema");
    expect(error.message).toMatch(/^Expected `options.schema` to be a plain lower-case identifier .*, got `/);
  });

  it.each([
    [{ connectionString: "" }, "options.connectionString", /^Expected `options.connectionString` to be a PostgreSQL connection string, got `""` \(string\)$/],
    [{ connectionString: 5 }, "options.connectionString", /got `5` \(number\)$/],
    [{ pool: {} }, "options.pool", /^Expected `options.pool` to be a pg.Pool, got `\{\}` \(object\)$/],
    [{ connectionString: "x", maxPayloadBytes: 0 }, "options.maxPayloadBytes", /^Expected `options.maxPayloadBytes` to be an integer from 1 to 268435456, got `0` \(number\)$/],
    [{ connectionString: "x", poolSize: 0 }, "options.poolSize", /^Expected `options.poolSize` to be an integer from 1 to 1000, got `0`/],
    [{ connectionString: "x", schemas: { a: 1 } }, "options.schemas.a", /^Expected `options.schemas.a` to be a zod schema, got `1` \(number\)$/],
    [{ connectionString: "x", schemas: [] }, "options.schemas", /^Expected `options.schemas` to be an object of zod schemas by job type/],
    [{ connectionstring: "x" }, "options.connectionstring", /got unknown `connectionstring` \(did you mean `connectionString`\?\)$/],
    ["postgres://x", "options", /^Expected `options` to be an options object, got `"postgres:\/\/x"` \(string\)$/],
  ])("refuses bad options %j", (options, field, message) => {
    const error = construct(options);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it("takes a pg.Pool", async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const q = new Queue({ pool, schema: db.schema });
    try {
      expect((await q.enqueue("with_pool", 1)).created).toBe(true);
    } finally {
      await q.close();
      await pool.end();
    }
  });
});

describe("typed payloads", () => {
  const schemas = {
    send_email: z.object({ to: z.string(), cc: z.array(z.email()).optional() }),
  };
  let typed: Queue<typeof schemas>;
  beforeAll(() => {
    typed = new Queue({ connectionString: db.url, schema: db.schema, schemas });
  });
  afterAll(async () => {
    await typed.close();
  });

  it("refuses a payload its schema rejects, naming the field", async () => {
    await refused(
      // @ts-expect-error `to` must be a string
      () => typed.enqueue("send_email", { to: 1 }),
      "payload.to",
      "Expected `payload.to` to match the schema of job type `send_email` (Invalid input: expected string, received number), got `1` (number)",
    );
    await refused(
      // @ts-expect-error `to` is required
      () => typed.enqueue("send_email", {}),
      "payload.to",
      /^Expected `payload.to` to match the schema of job type `send_email` \(.*\), got `undefined`$/,
    );
    await refused(
      () => typed.enqueue("send_email", { to: "a@b.c", cc: ["ok@x.io", "nope"] }),
      "payload.cc.1",
      /^Expected `payload.cc.1` to match the schema of job type `send_email` \(.*\), got `"nope"` \(string\)$/,
    );
    // enqueueMany's items are not type-checked per type at compile time; at run time they are.
    await refused(
      () => typed.enqueueMany([{ type: "other", payload: 1 }, { type: "send_email", payload: { to: false } }]),
      "items.1.payload.to",
      /^Expected `items.1.payload.to` to match the schema of job type `send_email`/,
    );
  });

  it("accepts a valid payload, and any JSON for types without a schema", async () => {
    const { job } = await typed.enqueue("send_email", { to: "a@b.com" });
    expect(job.payload).toEqual({ to: "a@b.com" });
    const other = await typed.enqueue("resize_image", { anything: [1, "two"] });
    expect(other.job.payload).toEqual({ anything: [1, "two"] });
    // A type named like an Object.prototype member has no schema.
    expect((await typed.enqueue("constructor", 1)).created).toBe(true);
  });
});
