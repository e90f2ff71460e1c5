import { z } from "zod";
import { textOf, ValidationError } from "./errors.js";

/**
 * Parses `value` with `schema`. On failure throws a `ValidationError` whose
 * message has one shape: Expected `field` to be <what>, got `<value>` (<type>).
 * Each schema states <what> as its error message (see `options.ts`).
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, label: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [label, ...issue.path.map(String)].join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    const known = knownKeys(schema, issue.path);
    const guess = known && closest(key, known);
    const expected = known ? `one of ${known.map((k) => `\`${k}\``).join(", ")}` : "a known option";
    throw new ValidationError(
      `${path}.${key}`,
      `Expected the keys of \`${path}\` to be ${expected}, got unknown \`${key}\`${guess ? ` (did you mean \`${guess}\`?)` : ""}`,
    );
  }
  const received = valueAt(value, issue.path);
  throw new ValidationError(path, `Expected \`${path}\` to be ${issue.message}, got ${describe(received)}`);
}

/**
 * The message for a payload that its job type's zod schema refused, in the
 * same shape: Expected `payload.to` to match the schema of job type
 * `send_email` (<zod's reason>), got `1` (number).
 */
export function schemaMismatch(jobType: string, field: string, payload: unknown, issue: z.core.$ZodIssue): ValidationError {
  const at = [field, ...issue.path.map(String)].join(".");
  const got = describe(valueAt(payload, issue.path));
  return new ValidationError(at, `Expected \`${at}\` to match the schema of job type \`${jobType}\` (${issue.message}), got ${got}`);
}

/** The keys an object schema at `path` inside `schema` accepts, if it can tell. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let current: unknown = schema;
  for (const key of [...path, null]) {
    for (;;) {
      if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) {
        current = current.unwrap();
      } else if (current instanceof z.ZodUnion) {
        // `false | { ... }` and the like: the object form names the keys.
        const object = current.options.find((o) => o instanceof z.ZodObject);
        if (!object) break;
        current = object;
      } else if (current instanceof z.ZodPipe) {
        // A preprocess is a pipe from a transform into the schema that checks.
        current = current.in instanceof z.ZodTransform ? current.out : current.in;
      } else break;
    }
    if (key === null) break;
    if (current instanceof z.ZodObject) current = current.shape[String(key)];
    else if (current instanceof z.ZodArray) current = current.element;
    else return undefined;
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : undefined;
}

/** The known key a typo most likely meant: same letters ignoring case, or at most two edits away. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance, with an adjacent swap counted as one edit. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Renders a received value for an error message, short and typed: `1.5` (number). */
export function describe(value: unknown): string {
  if (value === undefined) return "`undefined`";
  if (value === null) return "`null`";
  let type: string = typeof value;
  let shown: string;
  // Inside the try too: Array.isArray and instanceof throw on some Proxies.
  try {
    type = Array.isArray(value) ? "array" : value instanceof Date ? "Date" : typeof value;
    shown =
      typeof value === "string"
        ? JSON.stringify(value)
        : typeof value === "number"
          ? Object.is(value, -0) ? "-0" : String(value) // JSON would show NaN and Infinity as null
        : typeof value === "bigint"
          ? `${value}n`
          : typeof value === "function" || typeof value === "symbol"
            ? String(value)
            : value instanceof Date
              ? Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()
              : JSON.stringify(value) ?? String(value);
  } catch {
    shown = textOf(value);
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return `\`${shown}\` (${type})`;
}
