import { statement, type Statement } from "../db.js";
import { quoteIdent } from "../schema-name.js";
import { JOB_COLUMNS } from "./jobRow.js";

/** One job by id. $1 id */
export const jobGet = (schema: string): Statement =>
  statement(schema, "jobGet", `SELECT ${JOB_COLUMNS} FROM ${quoteIdent(schema)}.jobs WHERE id = $1`);
