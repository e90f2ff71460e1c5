import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendsBinary } from "../src/db.js";
import { float8Array, int4Array, textArray, timestamptzArray, uuidArray } from "../src/sql/binaryArray.js";
import { uuidv7Batch } from "../src/uuid.js";
import { databaseUrl } from "./support/db.js";

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
});
afterAll(async () => {
  await client.end();
});

/** What the server read from the binary parameter, as text elements (so nothing is lost on the way back). */
async function read(cast: string, value: Buffer): Promise<Array<string | null>> {
  const { rows } = await client.query(`SELECT x::text AS x FROM unnest($1::${cast}) WITH ORDINALITY AS u(x, n) ORDER BY n`, [value]);
  return rows.map((r) => r.x);
}

describe("binary array parameters", () => {
  it("sends text as UTF-8, with nulls, empty strings, quotes and backslashes as they are", async () => {
    const values = ["plain", "", null, `{"a": "q\\"uote\\\\"}`, "naïve 日本 🎉", "tab\there\nnewline", "a,b{c}"];
    expect(await read("text[]", textArray(values))).toEqual(values);
    expect(await read("text[]", textArray([]))).toEqual([]);
  });

  it("sends uuids from their bytes", async () => {
    const ids = uuidv7Batch(300);
    expect(await read("uuid[]", uuidArray(ids.bytes))).toEqual(ids.text);
  });

  it("sends integers and floats across their range", async () => {
    const ints = [0, 1, -1, 2_147_483_647, -2_147_483_648, null, 42];
    expect(await read("int[]", int4Array(ints))).toEqual(ints.map((v) => (v === null ? null : String(v))));
    const floats = [0, 1.5, -2.25, 315_360_000_000, null, 1e-7];
    const { rows } = await client.query("SELECT array_agg(x ORDER BY n) AS a FROM unnest($1::float8[]) WITH ORDINALITY AS u(x, n)", [float8Array(floats)]);
    expect(rows[0].a).toEqual(floats);
  });

  it("sends timestamps to the millisecond, before and after 2000", async () => {
    const dates = [new Date("2026-12-01T06:00:00.123Z"), null, new Date("1999-12-31T23:59:59.999Z"), new Date("1970-01-01T00:00:00.000Z"), new Date("2400-02-29T12:00:00.001Z")];
    const { rows } = await client.query("SELECT (extract(epoch FROM x) * 1000)::float8 AS ms FROM unnest($1::timestamptz[]) WITH ORDINALITY AS u(x, n) ORDER BY n", [timestamptzArray(dates)]);
    expect(rows.map((r) => r.ms)).toEqual(dates.map((d) => (d === null ? null : d.getTime())));
  });
});

describe("sendsBinary", () => {
  it("is true only for pg's JavaScript clients and the pools that make them", async () => {
    const pools = [new pg.Pool(), new pg.Pool({ Client: class extends pg.Client {} }), new pg.Pool({ Client: class {} as never })];
    expect(pools.map(sendsBinary)).toEqual([true, true, false]);
    expect(sendsBinary(client)).toBe(true);
    expect(sendsBinary({ query: async () => ({ rows: [] }) })).toBe(false);
    await Promise.all(pools.map((p) => p.end()));
  });
});
