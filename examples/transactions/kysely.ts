/**
 * Enqueue inside a Kysely transaction, through `kyselyClient(trx)` from
 * djps/adapters. Committed, the row and the job both exist; rolled back,
 * neither does. test/examples.transactions.test.ts runs it. In your code,
 * import from "djps" and "djps/adapters" instead of ../../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/transactions/kysely.ts
 */
import { Kysely, PostgresDialect, type Generated } from "kysely";
import pg from "pg";
import { fileURLToPath } from "node:url";
import { migrate, Queue } from "../../src/index.js";
import { kyselyClient } from "../../src/adapters/index.js";
import { checkDomain, SIGNUPS_TABLE } from "./app.js";

export interface AppDatabase {
  signups: { id: Generated<number>; email: string };
}

export async function signUp(db: Kysely<AppDatabase>, queue: Queue, email: string): Promise<string> {
  return db.transaction().execute(async (trx) => {
    await trx.insertInto("signups").values({ email }).execute();
    const { job } = await queue.enqueue("send_welcome", { email }, { client: kyselyClient(trx) });
    checkDomain(email);
    return job.id;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await migrate();
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  const db = new Kysely<AppDatabase>({ dialect: new PostgresDialect({ pool }) });
  const queue = new Queue();
  await pool.query(SIGNUPS_TABLE);
  const id = await signUp(db, queue, "ada@example.com");
  console.log("committed: job", (await queue.getJob(id))?.status);
  await signUp(db, queue, "eve@blocked.example").catch((e: Error) => console.log("rolled back:", e.message));
  await queue.close();
  await db.destroy();
}
