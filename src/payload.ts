import { ValidationError } from "./errors.js";
import { describe } from "./validate.js";

/**
 * Serialises a payload (or result) to JSON text for a `jsonb` column, refusing
 * what would not come back as it went in: values JSON cannot carry (bigint,
 * functions, symbols, `undefined` at the top, NaN and Infinity, cycles) and
 * strings PostgreSQL's jsonb rejects (NUL characters, lone surrogates).
 * Object properties whose value is `undefined` are dropped, as JSON.stringify does.
 */
export function serializeJson(value: unknown, field: string, maxBytes: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
      if (key !== "" && !isStorableString(key)) fail(`${field} key ${JSON.stringify(key)}`, "a key without NUL characters or lone surrogates", key);
      switch (typeof v) {
        case "number":
          if (!Number.isFinite(v)) fail(field, "JSON (a finite number)", v);
          return v;
        case "string":
          if (!isStorableString(v)) fail(field, "JSON (strings without NUL characters or lone surrogates)", v);
          return v;
        case "bigint":
        case "symbol":
        case "function":
          // Inside arrays JSON.stringify would turn these into null; at the top, undefined.
          return fail(field, "JSON-serialisable", v);
        case "undefined":
          // In an array JSON.stringify would store null; in an object the key is dropped.
          if (Array.isArray(this)) fail(field, "JSON (no undefined in arrays)", v);
          return v;
        default:
          return v;
      }
    });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(field, `Expected \`${field}\` to be JSON-serialisable: ${(error as Error).message}`);
  }
  if (text === undefined) fail(field, "JSON-serialisable", value);
  if (text.length > maxBytes / 3 && Buffer.byteLength(text) > maxBytes) {
    throw new ValidationError(field, `Expected \`${field}\` to be at most ${maxBytes} bytes of JSON, got ${Buffer.byteLength(text)} bytes`);
  }
  return text;
}

function isStorableString(s: string): boolean {
  return !s.includes("\u0000") && s.isWellFormed();
}

function fail(field: string, expected: string, got: unknown): never {
  throw new ValidationError(field, `Expected \`${field}\` to be ${expected}, got ${describe(got)}`);
}
