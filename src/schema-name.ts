import { DEFAULT_SCHEMA, schemaNameSchema } from "./options.js";
import { parse } from "./validate.js";

/**
 * The schema name is the one identifier spliced into SQL text. It is checked
 * against a strict pattern (see `schemaNameSchema`) and then double-quoted.
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Validates a schema option (default `djps`) and returns it. */
export function schemaName(value: unknown): string {
  return value === undefined ? DEFAULT_SCHEMA : parse(schemaNameSchema, value, "options.schema");
}

/** The NOTIFY channel on which enqueues in this schema wake workers. */
export function jobsChannel(schema: string): string {
  return `djps:${schema}:jobs`;
}
