import type { Run, Statement } from "../db.js";
import { quoteIdent } from "./ident.js";

/** Where a statement runs: the schema it addresses, and how to run it there. */
export interface Sql {
  readonly schema: string;
  readonly run: Run;
}

/**
 * A typed statement: called with where to run it and its parameters by name,
 * it resolves to its rows. The parameter order of the SQL text lives in one
 * place, the `values` function beside the text.
 */
export interface Query<P, R> {
  (sql: Sql, params: P): Promise<R[]>;
  /** The statement as sent for a schema: its prepared name (which carries the schema) and text. */
  statement(schema: string): Statement;
  /** The parameter values, in the order of the text's placeholders. */
  values(params: P): readonly unknown[];
}

/**
 * Defines a typed statement. `text` gets the schema already quoted. The
 * statement is built once per schema; its name carries the schema, so two
 * schemas never share a prepared plan. `R` is what the text's select list
 * returns, as pg parses it: the one place a row's shape is asserted.
 */
export function query<P, R>(name: string, text: (schema: string) => string, values: (params: P) => readonly unknown[]): Query<P, R> {
  const built = new Map<string, Statement>();
  const statement = (schema: string): Statement => {
    let s = built.get(schema);
    if (!s) {
      s = { name: `djps_${schema}_${name}`, text: text(quoteIdent(schema)) };
      built.set(schema, s);
    }
    return s;
  };
  const run = (sql: Sql, params: P) => sql.run(statement(sql.schema), values(params)) as Promise<R[]>;
  return Object.assign(run, { statement, values });
}
