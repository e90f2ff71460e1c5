import { isInstance, stringProperty, ValidationError } from "./errors.js";
import { describe } from "./validate.js";

/**
 * Serialises a payload (or result) to JSON text for a `jsonb` column, refusing
 * what would not come back as it went in: values JSON cannot carry (bigint,
 * functions, symbols, `undefined` at the top, NaN and Infinity, cycles) and
 * strings PostgreSQL's jsonb rejects (NUL characters, lone surrogates), and
 * built-in objects whose content JSON cannot see (Map, Set, Error, typed
 * arrays and their kin: see `lostInJson`). Whatever a `toJSON` or getter of
 * the value throws becomes a `ValidationError` naming the field.
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
        case "object": {
          const lost = v === null ? undefined : lostInJson(v);
          if (lost) {
            const at = pathOf(value, this, key, field);
            throw new ValidationError(at, `Expected \`${at}\` to be JSON, got ${lost.kind}, which JSON would store as ${lost.stored} (${lost.hint})`);
          }
          return v;
        }
        default:
          return v;
      }
    });
  } catch (thrown) {
    // What JSON.stringify throws may come from the value's own code (a toJSON
    // or a getter), and may be anything at all: read it defensively.
    throw refusal(thrown, value, field);
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

/** The error to report for what JSON.stringify threw on `value`. */
function refusal(thrown: unknown, value: unknown, field: string): ValidationError {
  if (isInstance(thrown, ValidationError)) return thrown;
  const reason = thrownText(thrown);
  // JSON.stringify's own recursion ran out of stack: too deep, the same rule
  // as below met earlier. A toJSON that overflows the stack on its own is
  // reported as its error, not as depth.
  if (isInstance(thrown, RangeError) && deeperThan(value, MAX_DEPTH)) return tooDeep(field);
  const cycle = isInstance(thrown, TypeError) && /circular/i.test(reason) ? cyclePath(value) : undefined;
  if (cycle) {
    const at = [field, ...cycle.path].join(".");
    const back = [field, ...cycle.target].join(".");
    return new ValidationError(at, `Expected \`${at}\` to be JSON (no circular references), got a reference back to \`${back}\``);
  }
  return new ValidationError(field, `Expected \`${field}\` to be JSON-serialisable, got an error from it: ${reason}`);
}

/**
 * One line of readable text for whatever a toJSON or getter threw: its
 * message when it has a readable one, else its name, else the value itself
 * as `describe` shows it. It never throws: the value may be a null-prototype
 * object, a Proxy whose traps throw, or an Error whose `message` getter throws.
 */
function thrownText(thrown: unknown): string {
  const message = typeof thrown === "string" ? thrown : stringProperty(thrown, "message");
  const line = message?.split("\n")[0]!.trim();
  if (line) return line;
  const name = stringProperty(thrown, "name");
  if (name && isInstance(thrown, Error)) return `${name} without a readable message`;
  return describe(thrown);
}

/** Whether arrays and objects in `value` nest deeper than `limit`, walking without recursion. */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
  const seen = new Set<unknown>();
  try {
    while (stack.length > 0) {
      const { node, depth } = stack.pop()!;
      if (node === null || typeof node !== "object" || seen.has(node)) continue;
      if (depth + 1 > limit) return true;
      seen.add(node);
      for (const key of Object.keys(node)) stack.push({ node: (node as Record<string, unknown>)[key], depth: depth + 1 });
    }
  } catch {
    // a getter or a Proxy trap threw: the value cannot be walked, so it is not known to be deep
  }
  return false;
}

interface Lost {
  /** What the value is, for the message: "a Map". */
  kind: string;
  /** What JSON would make of it: "`{}`". */
  stored: string;
  /** How to pass it instead. */
  hint: string;
}

const LOST_AS_EMPTY = "`{}`";

/**
 * Built-in objects whose content JSON cannot see (it lives in internal slots,
 * or in properties that are not enumerable) and would store as `{}` or as an
 * object of indexes, so the value would not come back as it went in. Objects
 * of other classes are stored by their own enumerable properties, as JSON
 * does; objects with a `toJSON` (Date, Buffer, URL) arrive here already
 * converted. `instanceof` is read inside a try: a Proxy's trap may throw.
 */
function lostInJson(v: object): Lost | undefined {
  if (Array.isArray(v)) return undefined;
  const convert = "convert it to plain objects and arrays first";
  try {
    if (v instanceof Map) return { kind: "a Map", stored: LOST_AS_EMPTY, hint: "convert it first, e.g. `Object.fromEntries(map)`" };
    if (v instanceof Set) return { kind: "a Set", stored: LOST_AS_EMPTY, hint: "convert it first, e.g. `[...set]`" };
    if (v instanceof WeakMap) return { kind: "a WeakMap", stored: LOST_AS_EMPTY, hint: convert };
    if (v instanceof WeakSet) return { kind: "a WeakSet", stored: LOST_AS_EMPTY, hint: convert };
    if (v instanceof WeakRef) return { kind: "a WeakRef", stored: LOST_AS_EMPTY, hint: convert };
    if (v instanceof Promise) return { kind: "a Promise", stored: LOST_AS_EMPTY, hint: "await it first" };
    if (v instanceof RegExp) return { kind: "a RegExp", stored: LOST_AS_EMPTY, hint: "pass its `source` and `flags` instead" };
    if (v instanceof Error) return { kind: "an Error", stored: "an object without its message", hint: "pass e.g. `{ name, message }` instead" };
    if (ArrayBuffer.isView(v)) return { kind: "a typed array or DataView", stored: "an object of indexes or `{}`", hint: "pass e.g. `Array.from(bytes)` or a base64 string instead" };
    if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return { kind: "an ArrayBuffer", stored: LOST_AS_EMPTY, hint: convert };
  } catch {
    // a Proxy whose getPrototypeOf trap throws: JSON will read it by its keys
  }
  return undefined;
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
