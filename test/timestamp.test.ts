import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTimestamptz } from "../src/timestamp.js";
import { databaseUrl } from "./support/db.js";

const driverParser = pg.types.getTypeParser(1184, "text") as (text: string) => Date | number | null;

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
});
afterAll(async () => {
  await client.end();
});

/** The server's text for an instant, in a session time zone. */
async function asText(zone: string, micros: bigint): Promise<string> {
  await client.query(`SET TIME ZONE '${zone}'`);
  const { rows } = await client.query("SELECT (to_timestamp(0) + $1::bigint * interval '1 microsecond')::text AS t", [micros.toString()]);
  return rows[0].t;
}

// Whole hours, half and quarter hours, negative offsets, and historical
// local mean times with seconds in the offset (Monrovia before 1972: -00:44:30).
const ZONES = ["UTC", "Asia/Kathmandu", "Asia/Kolkata", "America/St_Johns", "America/Sao_Paulo", "Pacific/Chatham", "Europe/Paris", "Africa/Monrovia"];

describe("parseTimestamptz", () => {
  it("reads what PostgreSQL prints exactly as the driver's parser does, in any session time zone", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ZONES),
        // 1000-01-01 .. 9999-12-31 in microseconds from the epoch.
        fc.bigInt({ min: -30_610_224_000_000_000n, max: 253_402_214_400_000_000n }),
        async (zone, micros) => {
          const text = await asText(zone, micros);
          expect(parseTimestamptz(text).getTime()).toBe((driverParser(text) as Date).getTime());
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reads the offsets with minutes and seconds", async () => {
    const text = await asText("Africa/Monrovia", -315_619_200_000_000n); // 1960-01-01T00:00:00Z
    expect(text).toBe("1959-12-31 23:15:30-00:44:30");
    expect(parseTimestamptz(text).toISOString()).toBe("1960-01-01T00:00:00.000Z");
  });

  it("hands what it does not know to the driver's parser", () => {
    for (const text of ["infinity", "-infinity", "0099-01-01 00:00:00+00", "2000-01-01 00:00:00+00 BC", "2026-13-45 99:99:99+00", "garbage"]) {
      const ours = parseTimestamptz(text) as unknown;
      const theirs = driverParser(text);
      if (theirs instanceof Date) expect((ours as Date).getTime()).toEqual(theirs.getTime());
      else expect(ours).toEqual(theirs);
    }
  });
});
