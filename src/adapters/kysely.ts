import { z } from "zod";
import type { Executor } from "../db.js";
import { parse } from "../validate.js";

/**
 * What djps uses of a Kysely `Transaction` (or `Kysely` instance): a copy
 * without plugins, and `executeQuery`. Structural, so djps does not depend
 * on Kysely.
 */
export interface KyselyTransactionLike {
  withoutPlugins(): {
    executeQuery(query: KyselyRawQuery): Promise<{ rows: unknown[]; numAffectedRows?: bigint | undefined }>;
  };
}

/**
 * A compiled query as Kysely's `CompiledQuery.raw(sql, parameters)` makes it:
 * the text and values go to the driver as they are.
 */
interface KyselyRawQuery {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  readonly query: { readonly kind: "RawNode"; readonly sqlFragments: readonly string[]; readonly parameters: readonly never[] };
  readonly queryId: { readonly queryId: string };
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
