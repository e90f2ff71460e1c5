/**
 * `djps/adapters`: a `client` for `enqueue`, `enqueueMany` and the other calls
 * that take one, made from the transaction of a query builder or ORM, so the
 * job commits or rolls back with the application's own writes. Each adapter
 * knows its library by shape only: djps depends on none of them. A
 * node-postgres client (`pg.PoolClient`) needs no adapter. See
 * docs/transactions.md.
 *
 * @example
 * import { kyselyClient } from "djps/adapters";
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto("signups").values({ email }).execute();
 *   await queue.enqueue("send_welcome", { email }, { client: kyselyClient(trx) });
 * });
 */
export { kyselyClient } from "./kysely.js";
export type { KyselyTransactionLike, KyselyRawQuery } from "./kysely.js";
export { drizzleClient } from "./drizzle.js";
export type { DrizzleTransactionLike } from "./drizzle.js";
export { knexClient } from "./knex.js";
export type { KnexTransactionLike } from "./knex.js";
export { prismaClient } from "./prisma.js";
export type { PrismaTransactionLike } from "./prisma.js";
export type { Executor } from "../db.js";
