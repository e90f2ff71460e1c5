/**
 * Enqueue inside a Drizzle transaction (node-postgres driver), through
 * `drizzleClient(tx)` from djps/adapters. Committed, the row and the job both
 * exist; rolled back, neither does. test/examples.transactions.test.ts runs
 * it. In your code, import from "djps" and "djps/adapters" instead of
 * ../../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/transactions/drizzle.ts
 */
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { pgTable, serial, text } from "drizzle-orm/pg-core";
import pg from "pg";
import { fileURLToPath } from "node:url";
import { migrate, Queue } from "../../src/index.js";
import { drizzleClient } from "../../src/adapters/index.js";
import { checkDomain, SIGNUPS_TABLE } from "./app.js";

export const signups = pgTable("signups", {
  id: serial("id").primaryKey(),
  email: text("email").notNull(),
});

export async function signUp(db: NodePgDatabase, queue: Queue, email: string): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.insert(signups).values({ email });
    const { job } = await queue.enqueue("send_welcome", { email }, { client: drizzleClient(tx) });
    checkDomain(email);
    return job.id;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await migrate();
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  const db = drizzle(pool);
  const queue = new Queue();
  await pool.query(SIGNUPS_TABLE);
  const id = await signUp(db, queue, "ada@example.com");
  console.log("committed: job", (await queue.getJob(id))?.status);
  await signUp(db, queue, "eve@blocked.example").catch((e: Error) => console.log("rolled back:", e.message));
  await queue.close();
  await pool.end();
}
