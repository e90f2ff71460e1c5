import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The README's first code block is examples/quickstart.ts, character for
// character, so what the README shows is what test/examples.run.test.ts runs.
const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

/** The text of the first ```ts block of a Markdown document, without its fences. */
function firstTsBlock(markdown: string): string | undefined {
  return /^```ts\n([\s\S]*?)^```$/m.exec(markdown)?.[1];
}

describe("the README's quick start", () => {
  it("is examples/quickstart.ts, exactly", () => {
    const block = firstTsBlock(read("README.md"));
    expect(block, "README.md has no ```ts block").toBeDefined();
    expect(block).toBe(read("examples/quickstart.ts"));
  });

  it("is found by the block reader (a changed block is told apart)", () => {
    expect(firstTsBlock("text\n```sh\nnpm i\n```\n```ts\nconst a = 1;\n```\n```ts\nlater\n```\n")).toBe("const a = 1;\n");
    expect(firstTsBlock("no code")).toBeUndefined();
  });
});
