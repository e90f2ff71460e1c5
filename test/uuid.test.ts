import { describe, expect, it } from "vitest";
import { uuidv7Batch } from "../src/uuid.js";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("uuidv7Batch", () => {
  it("makes version 7 ids in ascending order, the text matching the bytes", () => {
    const now = Date.UTC(2026, 11, 1, 6, 0, 0, 123);
    const { text, bytes } = uuidv7Batch(5_000, now);
    expect(text).toHaveLength(5_000);
    expect(bytes).toHaveLength(5_000 * 16);
    expect([...text].sort()).toEqual(text);
    expect(new Set(text).size).toBe(5_000);
    text.forEach((id, i) => {
      expect(id).toMatch(V7);
      expect(id.replace(/-/g, "")).toBe(hex(bytes.subarray(i * 16, i * 16 + 16)));
    });
    expect(parseInt(text[0]!.replace(/-/g, "").slice(0, 12), 16)).toBe(now);
  });

  it("draws a new random part for every batch", () => {
    const now = Date.now();
    const a = uuidv7Batch(10, now).text;
    const b = uuidv7Batch(10, now).text;
    expect(new Set([...a, ...b]).size).toBe(20);
    expect(uuidv7Batch(0).text).toEqual([]);
  });
});
