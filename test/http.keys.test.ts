import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../src/index.js";
import { createKey, KeyNotFoundError, listKeys, revokeKey } from "../src/http/keys.js";
import { useTestBed } from "./support/bed.js";

// API keys: created with their secret shown once, stored as a SHA-256 only,
// listed without it, revoked for good.

const bed = useTestBed("keys", { schemaPerTest: true });

describe("API keys", () => {
  it("creates a key shown once and stores only its hash", async () => {
    const created = await createKey(bed.queue, { name: "billing", queues: ["billing", "billing"], readOnly: true, rate: "100/1s" });
    expect(created.key).toMatch(/^djps_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: "billing", queues: ["billing"], readOnly: true, rate: { limit: 100, periodMs: 1000 }, revokedAt: null });
    const { rows } = await bed.db.pool.query(`SELECT * FROM "${bed.db.schema}".api_keys`);
    expect(rows).toHaveLength(1);
    expect(rows[0].hash).toEqual(createHash("sha256").update(created.key).digest());
    expect(JSON.stringify(rows[0])).not.toContain(created.key.slice(5));
    expect(rows[0].tokens).toBe(100);

    const listed = await listKeys(bed.queue);
    expect(listed).toEqual([{ id: created.id, name: "billing", queues: ["billing"], readOnly: true, rate: { limit: 100, periodMs: 1000 }, createdAt: created.createdAt, revokedAt: null }]);
    expect(JSON.stringify(listed)).not.toContain(created.key);
  });

  it("makes keys for every queue, read-write, without a limit by default", async () => {
    const created = await createKey(bed.queue, { name: "ops" });
    expect(created).toMatchObject({ queues: null, readOnly: false, rate: null });
    expect(await createKey(bed.queue, { name: "ops" })).not.toMatchObject({ key: created.key });
    expect(await createKey(bed.queue, { name: "x", rate: { limit: 5, periodMs: 60_000 } })).toMatchObject({ rate: { limit: 5, periodMs: 60_000 } });
    expect(await createKey(bed.queue, { name: "y", rate: "10/m" })).toMatchObject({ rate: { limit: 10, periodMs: 60_000 } });
  });

  it("revokes a key, keeping it listed", async () => {
    const { id } = await createKey(bed.queue, { name: "old" });
    const revoked = await revokeKey(bed.queue, id);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await revokeKey(bed.queue, id)).toEqual(revoked);
    expect((await listKeys(bed.queue))[0]!.revokedAt).toEqual(revoked.revokedAt);
    await expect(revokeKey(bed.queue, "0190d0c0-0000-7000-8000-000000000000")).rejects.toThrow(KeyNotFoundError);
  });

  it("refuses bad input naming the field", async () => {
    await expect(createKey(bed.queue, { name: "" })).rejects.toThrow("Expected `options.name` to be a name of 1 to 200 characters");
    await expect(createKey(bed.queue, { name: "a", queues: [] })).rejects.toThrow(ValidationError);
    await expect(createKey(bed.queue, { name: "a", queues: ["no spaces"] })).rejects.toThrow("options.queues.0");
    await expect(createKey(bed.queue, { name: "a", rate: "fast" })).rejects.toThrow("Expected `options.rate` to be a rate like `100/1s`");
    await expect(createKey(bed.queue, { name: "a", rate: "0/1s" })).rejects.toThrow("options.rate");
    await expect(createKey(bed.queue, { name: "a", rate: { limit: 1, periodMs: 0 } })).rejects.toThrow("options.rate");
    await expect(createKey(bed.queue, { name: "a", bogus: 1 } as never)).rejects.toThrow("unknown `bogus`");
    await expect(revokeKey(bed.queue, "nope")).rejects.toThrow("Expected `id` to be an API key id (a UUID string)");
    expect(await listKeys(bed.queue)).toEqual([]);
  });
});
