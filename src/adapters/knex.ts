import { z } from "zod";
import { ConfigError } from "../errors.js";
import type { Executor } from "../db.js";
import { parse } from "../validate.js";

/**
 * What djps uses of a Knex transaction: whether it has finished, and its
 * client, which hands out the transaction's one connection. Structural, so
 * djps does not depend on Knex.
 */
export interface KnexTransactionLike {
  /** Whether the transaction has committed or rolled back. */
  isCompleted(): boolean;
  /** The transaction's Knex client. */
  readonly client: {
    /** The SQL dialect (`postgresql` for the pg client). */
    readonly dialect?: string | undefined;
    /** The transaction's one connection (a pg client). */
    acquireConnection(): Promise<unknown>;
  };
}

const knexSchema = z.custom<KnexTransactionLike>(
  (v) =>
    v !== null &&
    (typeof v === "object" || typeof v === "function") &&
    typeof (v as { isCompleted?: unknown }).isCompleted === "function" &&
    typeof (v as { client?: { acquireConnection?: unknown } }).client?.acquireConnection === "function",
  { error: "a Knex transaction (from knex.transaction(async (trx) => ...))" },
);

/**
 * A `client` for djps calls inside a Knex transaction on PostgreSQL (the `pg`
 * client):
 *
 * ```ts
 * await knex.transaction(async (trx) => {
 *   await trx("signups").insert({ email });
 *   await queue.enqueue("send_welcome", { email }, { client: knexClient(trx) });
 * });
 * ```
 *
 * Knex's `raw()` takes `?` placeholders, and rewriting djps's `$1` into them
 * would have to tell a placeholder from a `?` or `$1` inside a string or a
 * JSON operator. So djps's statements skip Knex's query building: they run
 * as they are on the transaction's own node-postgres connection, the one
 * Knex sent `BEGIN` on. A statement after the transaction has finished is
 * refused rather than sent on a connection back in the pool.
 */
export function knexClient(transaction: KnexTransactionLike): Executor {
  const trx = parse(knexSchema, transaction, "transaction");
  const dialect = trx.client.dialect;
  if (dialect !== undefined && dialect !== "postgresql") {
    throw new ConfigError(`knexClient() needs Knex on PostgreSQL (the pg client), got the ${dialect} dialect`);
  }
  return {
    async query(text, values) {
      if (trx.isCompleted()) throw new ConfigError("knexClient(): the Knex transaction has already finished (committed or rolled back)");
      const connection = (await trx.client.acquireConnection()) as Partial<Executor> | null;
      if (connection === null || typeof connection !== "object" || typeof connection.query !== "function") {
        throw new ConfigError("knexClient() needs Knex on PostgreSQL with the pg driver: the transaction's connection has no query()");
      }
      return connection.query(text, values);
    },
  };
}
