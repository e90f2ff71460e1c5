import { KEY_COLUMNS, type KeyRow } from "./keyRow.js";
import { query } from "./query.js";

/** Every key, revoked ones too, oldest first (ids are UUIDv7: creation order). */
export const keyList = query<void, KeyRow>("keyList", (s) => `SELECT ${KEY_COLUMNS} FROM ${s}.api_keys ORDER BY id`, () => []);
