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
      // `this` holds `v` under `key`; the path to it is only worked out when something is wrong.
      if (key !== "" && !isStorableString(key)) {
        fail(pathOf(value, this, "", field), "JSON with keys without NUL characters or lone surrogates", key);
      }
      switch (typeof v) {
        case "number":
          if (!Number.isFinite(v)) fail(pathOf(value, this, key, field), "JSON (a finite number)", v);
          return v;
        case "string":
          if (!isStorableString(v)) fail(pathOf(value, this, key, field), "JSON (strings without NUL characters or lone surrogates)", v);
          return v;
        case "bigint":
        case "symbol":
        case "function":
          // Inside arrays JSON.stringify would turn these into null; at the top, undefined.
          return fail(pathOf(value, this, key, field), "JSON-serialisable", v);
        case "undefined":
          // In an array JSON.stringify would store null; in an object the key is dropped.
          if (Array.isArray(this)) fail(pathOf(value, this, key, field), "JSON (no undefined in arrays)", v);
          return v;
        default:
          return v;
      }
    });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // Too deep for JSON.stringify's own recursion: the same rule as below, met earlier.
    if (error instanceof RangeError) throw tooDeep(field);
    const cycle = error instanceof TypeError ? cyclePath(value) : undefined;
    if (cycle) {
      const at = [field, ...cycle.path].join(".");
      const back = [field, ...cycle.target].join(".");
      throw new ValidationError(at, `Expected \`${at}\` to be JSON (no circular references), got a reference back to \`${back}\``);
    }
    const reason = ((error as Error)?.message ?? String(error)).split("\n")[0];
    throw new ValidationError(field, `Expected \`${field}\` to be JSON-serialisable, got an error from it: ${reason}`);
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

/**
 * The dotted path of `holder[key]` inside `root`, e.g. `payload.items.2`.
 * Only called on the way to an error, so the search may cost a walk of the
 * value. A holder that is not inside `root` (made by a toJSON) yields `field`.
 */
function pathOf(root: unknown, holder: unknown, key: string, field: string): string {
  // JSON.stringify calls the replacer for the top value with key "" on a wrapper `{ "": value }`.
  if (key === "") {
    if (holder !== null && typeof holder === "object" && (holder as Record<string, unknown>)[""] === root && Object.keys(holder).length === 1) return field;
  }
  const found = find(root, holder);
  if (!found) return field;
  return [field, ...found, ...(key === "" ? [] : [key])].join(".");
}

/** The keys leading from `root` to the object `target`, walking without recursion or copying paths. */
function find(root: unknown, target: unknown): string[] | undefined {
  interface Step { node: unknown; key: string; parent: Step | undefined }
  const seen = new Set<unknown>();
  const stack: Step[] = [{ node: root, key: "", parent: undefined }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    if (step.node === target) {
      const path: string[] = [];
      for (let s: Step | undefined = step; s?.parent; s = s.parent) path.push(s.key);
      return path.reverse();
    }
    const node = step.node;
    if (node === null || typeof node !== "object" || seen.has(node)) continue;
    seen.add(node);
    // Pushed last to first, so the first path in document order (the one JSON.stringify took) is found.
    const keys = Object.keys(node);
    for (let i = keys.length - 1; i >= 0; i--) stack.push({ node: (node as Record<string, unknown>)[keys[i]!], key: keys[i]!, parent: step });
  }
  return undefined;
}

/** Where a value refers back to one of its own ancestors: the path of the reference and of the ancestor. */
function cyclePath(root: unknown): { path: string[]; target: string[] } | undefined {
  const ancestors = new Map<unknown, string[]>();
  const visit = (node: unknown, path: string[]): { path: string[]; target: string[] } | undefined => {
    if (node === null || typeof node !== "object") return undefined;
    const back = ancestors.get(node);
    if (back) return { path, target: back };
    ancestors.set(node, path);
    for (const k of Object.keys(node)) {
      const hit = visit((node as Record<string, unknown>)[k], [...path, k]);
      if (hit) return hit;
    }
    ancestors.delete(node);
    return undefined;
  };
  try {
    return visit(root, []);
  } catch {
    return undefined; // deeper than the stack allows: the generic message will do
  }
}

function isStorableString(s: string): boolean {
  return !s.includes("\u0000") && s.isWellFormed();
}

function fail(field: string, expected: string, got: unknown): never {
  throw new ValidationError(field, `Expected \`${field}\` to be ${expected}, got ${describe(got)}`);
}
