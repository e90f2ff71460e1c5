import { randomFillSync } from "node:crypto";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Sets the 48-bit millisecond timestamp and the version and variant bits of a v7 layout in `b`. */
function stamp(b: Uint8Array, now: number): void {
  b[0] = Math.floor(now / 2 ** 40) & 0xff;
  b[1] = Math.floor(now / 2 ** 32) & 0xff;
  b[2] = (now >>> 24) & 0xff;
  b[3] = (now >>> 16) & 0xff;
  b[4] = (now >>> 8) & 0xff;
  b[5] = now & 0xff;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
}

/** The canonical text of the 16 bytes at `at` in `b`. */
function text(b: Uint8Array, at: number): string {
  const h = (i: number) => HEX[b[at + i]!]!;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

/** Ids of one batch: the text of each, and all their bytes end to end (16 each). */
export interface UuidBatch {
  readonly text: string[];
  readonly bytes: Uint8Array;
}

/** The most ids one batch can take: its counter must not carry out of its 32 bits. */
export const MAX_BATCH_IDS = 2 ** 31;

/**
 * `count` version 7 UUIDs of the same millisecond, in ascending order. The
 * layout is the schema's `uuid_v7()`: 48 bits of Unix milliseconds, then
 * random bits, so ids sort by creation time and keep the primary key index
 * append-mostly. One random draw gives the batch's 42 random bits and the
 * start of a counter in the last 32 bits (below 2^31, so it never carries).
 * Ids made one by one within a millisecond are in random order and had to be
 * sorted, which cost more than making them; these are in order as made. Two
 * batches of 1,000 made in the same millisecond collide only if they draw the
 * same 42 bits and overlapping counter ranges: a chance of about 2^-62.
 */
export function uuidv7Batch(count: number, now = Date.now()): UuidBatch {
  if (count > MAX_BATCH_IDS) throw new RangeError(`uuidv7Batch: at most ${MAX_BATCH_IDS} ids, got ${count}`);
  const base = new Uint8Array(16);
  randomFillSync(base);
  stamp(base, now);
  base[12] = base[12]! & 0x7f;
  const start = ((base[12]! << 24) | (base[13]! << 16) | (base[14]! << 8) | base[15]!) >>> 0;
  const prefix = text(base, 0).slice(0, 28);
  const bytes = new Uint8Array(count * 16);
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const at = i * 16;
    const n = start + i;
    bytes.set(base.subarray(0, 12), at);
    bytes[at + 12] = n >>> 24;
    bytes[at + 13] = (n >>> 16) & 0xff;
    bytes[at + 14] = (n >>> 8) & 0xff;
    bytes[at + 15] = n & 0xff;
    ids[i] = `${prefix}${HEX[n >>> 24]}${HEX[(n >>> 16) & 0xff]}${HEX[(n >>> 8) & 0xff]}${HEX[n & 0xff]}`;
  }
  return { text: ids, bytes };
}
