/**
 * One-dimensional arrays in PostgreSQL's binary format (what `array_recv`
 * reads), for the parameters of bulk statements. pg sends a Buffer parameter
 * as binary, so the server reads each element as it is instead of parsing an
 * array literal, and Node writes the bytes instead of quoting and escaping
 * every element: for a 1,000-job batch that was about a millisecond on each
 * side. Only for statements that run on a pg connection: other drivers may
 * send a Buffer as something else (see `insertJobs`).
 */

/** Type OIDs of the elements. */
const OID = { int4: 23, text: 25, float8: 701, timestamptz: 1184, uuid: 2950 } as const;

/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC). */
const PG_EPOCH_MS = 946_684_800_000;

/** The array header (one dimension, lower bound 1) followed by `body` bytes of elements. */
function header(oid: number, count: number, hasNull: boolean, body: number): Buffer {
  const buffer = Buffer.allocUnsafe(20 + body);
  buffer.writeInt32BE(1, 0);
  buffer.writeInt32BE(hasNull ? 1 : 0, 4);
  buffer.writeUInt32BE(oid, 8);
  buffer.writeInt32BE(count, 12);
  buffer.writeInt32BE(1, 16);
  return buffer;
}

/** A `uuid[]` of the ids whose 16 bytes each lie end to end in `bytes`. */
export function uuidArray(bytes: Uint8Array): Buffer {
  const count = bytes.length / 16;
  const buffer = header(OID.uuid, count, false, count * 20);
  for (let i = 0, at = 20; i < count; i++, at += 20) {
    buffer.writeInt32BE(16, at);
    buffer.set(bytes.subarray(i * 16, i * 16 + 16), at + 4);
  }
  return buffer;
}

/** A `text[]`, as UTF-8 (pg's connections use client_encoding UTF8). */
export function textArray(values: readonly (string | null)[]): Buffer {
  const lengths = new Int32Array(values.length);
  let body = 0;
  let hasNull = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    lengths[i] = v === null || v === undefined ? -1 : Buffer.byteLength(v);
    hasNull ||= lengths[i]! < 0;
    body += 4 + Math.max(lengths[i]!, 0);
  }
  const buffer = header(OID.text, values.length, hasNull, body);
  let at = 20;
  for (let i = 0; i < values.length; i++) {
    buffer.writeInt32BE(lengths[i]!, at);
    at += 4;
    if (lengths[i]! > 0) at += buffer.write(values[i]!, at, lengths[i]!, "utf8");
  }
  return buffer;
}

/** An array of fixed-width elements, `write` putting each non-null value at its offset. */
function fixedArray<T>(oid: number, width: number, values: readonly (T | null)[], write: (buffer: Buffer, value: T, at: number) => void): Buffer {
  let nulls = 0;
  for (const v of values) if (v === null || v === undefined) nulls++;
  const buffer = header(oid, values.length, nulls > 0, values.length * 4 + (values.length - nulls) * width);
  let at = 20;
  for (const v of values) {
    if (v === null || v === undefined) {
      buffer.writeInt32BE(-1, at);
      at += 4;
    } else {
      buffer.writeInt32BE(width, at);
      write(buffer, v, at + 4);
      at += 4 + width;
    }
  }
  return buffer;
}

/** An `int[]` (int4): integers from -2^31 to 2^31 - 1. */
export function int4Array(values: readonly (number | null)[]): Buffer {
  return fixedArray(OID.int4, 4, values, (b, v, at) => b.writeInt32BE(v, at));
}

/** A `float8[]`. */
export function float8Array(values: readonly (number | null)[]): Buffer {
  return fixedArray(OID.float8, 8, values, (b, v, at) => b.writeDoubleBE(v, at));
}

/** A `timestamptz[]` at millisecond precision, as every Date is (the server's integer timestamps). */
export function timestamptzArray(values: readonly (Date | null)[]): Buffer {
  return fixedArray(OID.timestamptz, 8, values, (b, v, at) => b.writeBigInt64BE(BigInt(v.getTime() - PG_EPOCH_MS) * 1000n, at));
}
