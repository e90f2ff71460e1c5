import { z } from "zod";
import { ConfigError } from "../errors.js";
import type { Executor } from "../db.js";
import { parse } from "../validate.js";

/**
 * What djps uses of a Drizzle transaction on the node-postgres driver
 * (`drizzle-orm/node-postgres`): its session, under `tx._.session`.
 * Structural, so djps does not depend on Drizzle.
 */
export interface DrizzleTransactionLike {
  /** Drizzle's internals: the transaction's session, which holds its node-postgres client. */
  readonly _: {
    /** The session (its `client` is the pg client that sent `BEGIN`). */
    readonly session: unknown;
  };
}

const drizzleSchema = z.custom<DrizzleTransactionLike>(
  (v) => {
    const session = (v as { _?: { session?: unknown } } | null)?._?.session;
    return v !== null && typeof v === "object" && typeof session === "object" && session !== null;
  },
  { error: "a Drizzle transaction (from db.transaction(async (tx) => ...))" },
);

/**
 * A `client` for djps calls inside a Drizzle transaction on the node-postgres
 * driver:
 *
 * ```ts
 * await db.transaction(async (tx) => {
 *   await tx.insert(signups).values({ email });
 *   await queue.enqueue("send_welcome", { email }, { client: drizzleClient(tx) });
 * });
 * ```
 *
 * It is the transaction's own node-postgres client, the one Drizzle sent
 * `BEGIN` on (the `client` of `tx._.session`, a field Drizzle does not declare public),
 * so djps's statements go to the driver as they are. Other Drizzle drivers
 * (postgres.js, Neon...) hold another kind of client: a `ConfigError` says so.
 */
export function drizzleClient(transaction: DrizzleTransactionLike): Executor {
  const { session } = parse(drizzleSchema, transaction, "transaction")._;
  const client = (session as { client?: unknown }).client;
  if (client === null || typeof client !== "object" || typeof (client as { query?: unknown }).query !== "function") {
    throw new ConfigError(
      "drizzleClient() needs a transaction of Drizzle's node-postgres driver (drizzle-orm/node-postgres): this one holds no pg client",
    );
  }
  return client as Executor;
}
