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
    // Too deep for JSON.stringify's own recursion: the same rule as below, met earlier.
    if (error instanceof RangeError) throw tooDeep(field);
    throw new ValidationError(field, `Expected \`${field}\` to be JSON-serialisable: ${(error as Error).message}`);
  }
  if (text === undefined) fail(field, "JSON-serialisable", value);
  // Depth n needs at least 2n characters, so short texts skip the scan.
  if (text.length > 2 * MAX_DEPTH && nestingDepth(text) > MAX_DEPTH) {
    throw tooDeep(field);
  }
  if (text.length > maxBytes / 3 && Buffer.byteLength(text) > maxBytes) {
    throw new ValidationError(field, `Expected \`${field}\` to be at most ${maxBytes} bytes of JSON, got ${Buffer.byteLength(text)} bytes`);
  }
  return text;
}

/**
 * Deeper JSON than this is refused: PostgreSQL's jsonb parser runs out of
 * stack somewhere past a few thousand levels, and so do many JSON consumers.
 */
export const MAX_DEPTH = 1000;

/** The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count). */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) max = depth;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return max;
}

function tooDeep(field: string): ValidationError {
  return new ValidationError(field, `Expected \`${field}\` to be JSON nested at most ${MAX_DEPTH} levels deep`);
}

function isStorableString(s: string): boolean {
  return !s.includes("\u0000") && s.isWellFormed();
}

function fail(field: string, expected: string, got: unknown): never {
  throw new ValidationError(field, `Expected \`${field}\` to be ${expected}, got ${describe(got)}`);
}
