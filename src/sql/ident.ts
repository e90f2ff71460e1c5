/**
 * The schema name is the one identifier spliced into SQL text. It is checked
 * against a strict pattern before it gets here (see `schemaNameSchema`) and
 * is double-quoted here all the same.
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A constant list of words as SQL string literals, for `status IN (...)` written from the code's own lists. */
export function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(", ");
}
