import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { schemaNameSchema } from "../src/options.js";

const SQL = new URL("../src/sql/", import.meta.url);

describe("statement names", () => {
  it("fit PostgreSQL's 63 bytes with the longest schema name, and are unique", async () => {
    // pg warns on every longer name, and the server would cut it to 63 bytes,
    // where two statements could end up sharing one.
    const longest = "s".repeat(40);
    expect(schemaNameSchema.safeParse(longest).success).toBe(true);
    expect(schemaNameSchema.safeParse(`${longest}s`).success).toBe(false);
    const names: string[] = [];
    for (const file of readdirSync(SQL).filter((f) => f.endsWith(".ts"))) {
      const module: Record<string, unknown> = await import(new URL(file, SQL).href);
      for (const value of Object.values(module)) {
        const statement = (value as { statement?: (schema: string) => { name: string } } | null)?.statement;
        if (typeof value === "function" && typeof statement === "function") names.push(statement(longest).name);
      }
    }
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => Buffer.byteLength(n) > 63)).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
  });
});
