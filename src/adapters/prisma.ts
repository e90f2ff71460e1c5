import { z } from "zod";
import type { Executor } from "../db.js";
import { parse } from "../validate.js";

/**
 * What djps uses of a Prisma interactive transaction: `$queryRawUnsafe`.
 * Structural, so djps does not depend on Prisma.
 */
export interface PrismaTransactionLike {
  /** Runs SQL with `$1`-style placeholders and returns its rows. */
  $queryRawUnsafe(query: string, ...values: any[]): PromiseLike<unknown>;
}

const prismaSchema = z.custom<PrismaTransactionLike>(
  (v) => v !== null && typeof v === "object" && typeof (v as { $queryRawUnsafe?: unknown }).$queryRawUnsafe === "function",
  { error: "a Prisma transaction client (from prisma.$transaction(async (tx) => ...))" },
);

/**
 * A `client` for djps calls inside a Prisma interactive transaction on
 * PostgreSQL (tested with the `@prisma/adapter-pg` driver adapter):
 *
 * ```ts
 * await prisma.$transaction(async (tx) => {
 *   await tx.signup.create({ data: { email } });
 *   await queue.enqueue("send_welcome", { email }, { client: prismaClient(tx) });
 * });
 * ```
 *
 * djps's statements run through `tx.$queryRawUnsafe(text, ...values)`, which
 * keeps PostgreSQL's `$1` placeholders and binds the values as parameters (it
 * is "unsafe" only for text built from user input, which djps's statements
 * never are).
 */
export function prismaClient(transaction: PrismaTransactionLike): Executor {
  const tx = parse(prismaSchema, transaction, "transaction");
  return {
    async query(text, values = []) {
      const rows = await tx.$queryRawUnsafe(text, ...values);
      return { rows: Array.isArray(rows) ? rows : [] };
    },
  };
}
