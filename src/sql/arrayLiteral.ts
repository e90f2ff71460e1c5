/**
 * PostgreSQL array literals built as one string, for the batch statements of
 * the hot path. node-postgres serialises a JavaScript array element by
 * element (quoting and escaping each into a new string): for a completion
 * batch of a few hundred jobs that was a measurable share of a worker's
 * allocations per job.
 */

/** `{a,b,c}` for values that need no quoting: uuids as PostgreSQL prints them, and integers. */
export function plainArray(values: readonly (string | number)[]): string {
  return `{${values.join(",")}}`;
}

/** `{"a",NULL,"b"}` for any text, null as SQL NULL. */
export function textArray(values: readonly (string | null)[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ",";
    out += v === null || v === undefined ? "NULL" : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  }
  return `${out}}`;
}
