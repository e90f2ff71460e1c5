import { z } from "zod";
import type { Executor } from "../db.js";
import { parse } from "../validate.js";

/**
 * What djps uses of a Kysely `Transaction` (or `Kysely` instance): a copy
 * without plugins, and `executeQuery`. Structural, so djps does not depend
 * on Kysely.
 */
export interface KyselyTransactionLike {
  /** The same transaction without its plugins, so no plugin rewrites djps's rows. */
  withoutPlugins(): {
    /** Runs a compiled query on the transaction's connection. */
    executeQuery(query: KyselyRawQuery): Promise<{
      /** The rows the statement returned. */
      rows: unknown[];
      /** How many rows an INSERT, UPDATE or DELETE changed. */
      numAffectedRows?: bigint | undefined;
    }>;
  };
}

/**
 * A compiled query as Kysely's `CompiledQuery.raw(sql, parameters)` makes it:
 * the text and values go to the driver as they are.
 */
export interface KyselyRawQuery {
  /** The SQL text, with `$1`-style placeholders. */
  readonly sql: string;
  /** The values of the placeholders. */
  readonly parameters: readonly unknown[];
  /** The query's node, as `CompiledQuery.raw` makes it. */
  readonly query: {
    /** Always `RawNode`. */
    readonly kind: "RawNode";
    /** The SQL text, as one fragment. */
    readonly sqlFragments: readonly string[];
    /** Empty: the values travel in `parameters` above. */
    readonly parameters: readonly never[];
  };
  /** The query's id, as `CompiledQuery.raw` makes it. */
  readonly queryId: {
    /** A unique id. */
    readonly queryId: string;
  };
}

const kyselySchema = z.custom<KyselyTransactionLike>(
  (v) => v !== null && typeof v === "object" && typeof (v as { withoutPlugins?: unknown }).withoutPlugins === "function",
  { error: "a Kysely transaction (from db.transaction().execute(...))" },
);

let queryCount = 0;

/**
 * A `client` for djps calls inside a Kysely transaction, on a PostgreSQL
 * dialect (`PostgresDialect`, node-postgres underneath):
 *
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto("signups").values({ email }).execute();
 *   await queue.enqueue("send_welcome", { email }, { client: kyselyClient(trx) });
 * });
 * ```
 *
 * djps's statements (PostgreSQL text with `$1` placeholders) run as raw
 * compiled queries on the transaction's connection. They skip the instance's
 * plugins: a plugin that rewrites rows (`CamelCasePlugin`) would rename the
 * columns djps reads.
 */
export function kyselyClient(transaction: KyselyTransactionLike): Executor {
  const trx = parse(kyselySchema, transaction, "transaction").withoutPlugins();
  return {
    async query(text, values = []) {
      const result = await trx.executeQuery({
        sql: text,
        parameters: values,
        query: { kind: "RawNode", sqlFragments: [text], parameters: [] },
        queryId: { queryId: `djps-${++queryCount}` },
      });
      return { rows: result.rows, rowCount: result.numAffectedRows === undefined ? null : Number(result.numAffectedRows) };
    },
  };
}
