import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { databaseUrl, uniqueSchema } from "./support/db.js";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("examples/testing", () => {
  it("runs the node:test example green", async () => {
    const schema = uniqueSchema("ex");
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "--test", "--test-reporter=spec", "examples/testing/signup.test.ts"],
        { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl(), DJPS_SCHEMA: schema }, timeout: 120_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
      );
    });
    expect(result.out).toContain("pass 3");
    expect(result.out).toContain("fail 0");
    expect(result.code, result.out).toBe(0);
  });
});
