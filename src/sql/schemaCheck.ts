import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";

/** Whether the schema has a jobs table (i.e. was migrated). Returns one row: { t: regclass | null }. */
export const schemaCheck = (schema: string): Statement =>
  statement(schema, "schemaCheck", `SELECT to_regclass('${quoteIdent(schema)}.jobs') AS t`);
