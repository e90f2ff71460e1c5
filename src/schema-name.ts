import { DEFAULT_SCHEMA, schemaNameSchema } from "./options.js";
import { parse } from "./validate.js";

/** Validates a schema option (default `djps`) and returns it. */
export function schemaName(value: unknown): string {
  return value === undefined ? DEFAULT_SCHEMA : parse(schemaNameSchema, value, "options.schema");
}

/** The NOTIFY channel on which enqueues in this schema wake workers. */
export function jobsChannel(schema: string): string {
  return `djps:${schema}:jobs`;
}
