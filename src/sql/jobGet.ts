import { JOB_COLUMNS, type JobRow } from "./jobRow.js";
import { query } from "./query.js";

/** One job by id. */
export const jobGet = query<{ id: string }, JobRow>("jobGet", (s) => `SELECT ${JOB_COLUMNS} FROM ${s}.jobs WHERE id = $1`, (p) => [p.id]);
