import { describe, expect, inject, it } from "vitest";
import { describeVerdict } from "./faults/invariants.js";
import { QUICK, SCENARIOS } from "./faults/scenarios.js";

// The fault suite, small: each scenario runs real worker processes against a
// real PostgreSQL while it injects its faults, then checks every invariant
// (see test/faults/invariants.ts). `npm run soak -- --minutes N` runs it long.
describe("faults: no job is lost or finished twice", () => {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(name, async () => {
      const verdict = await scenario(inject("databaseUrl"), QUICK);
      console.log(describeVerdict(name, verdict));
      expect(verdict.violations).toEqual([]);
      expect(verdict.jobs).toBe(QUICK.jobs);
    }, 180_000);
  }
});
