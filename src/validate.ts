import { z } from "zod";
import { ValidationError } from "./errors.js";

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
    const keys = issue.keys.map((k) => `\`${path}.${k}\``).join(", ");
    throw new ValidationError(`${path}.${issue.keys[0]}`, `Unknown option ${keys}`);
  }
  const received = valueAt(value, issue.path);
  throw new ValidationError(path, `Expected \`${path}\` to be ${issue.message}, got ${describe(received)}`);
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
  const type = Array.isArray(value) ? "array" : value instanceof Date ? "Date" : typeof value;
  let shown: string;
  try {
    shown =
      typeof value === "string"
        ? JSON.stringify(value)
        : typeof value === "bigint"
          ? `${value}n`
          : typeof value === "function" || typeof value === "symbol"
            ? String(value)
            : value instanceof Date
              ? Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()
              : JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return `\`${shown}\` (${type})`;
}
