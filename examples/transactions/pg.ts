/**
 * Enqueue inside a node-postgres transaction: the client you ran BEGIN on
 * is the `client` djps takes, no adapter needed. Committed, the row and the
 * job both exist; rolled back, neither does.
 * test/examples.transactions.test.ts runs it. In your code, import from
 * "djps" instead of ../../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/transactions/pg.ts
 */
import pg from "pg";
import { fileURLToPath } from "node:url";
import { migrate, Queue } from "../../src/index.js";
import { checkDomain, SIGNUPS_TABLE } from "./app.js";

export async function signUp(pool: pg.Pool, queue: Queue, email: string): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("INSERT INTO signups (email) VALUES ($1)", [email]);
    const { job } = await queue.enqueue("send_welcome", { email }, { client });
    checkDomain(email);
    await client.query("COMMIT");
    return job.id;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await migrate();
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  const queue = new Queue();
  await pool.query(SIGNUPS_TABLE);
  const id = await signUp(pool, queue, "ada@example.com");
  console.log("committed: job", (await queue.getJob(id))?.status);
  await signUp(pool, queue, "eve@blocked.example").catch((e: Error) => console.log("rolled back:", e.message));
  await queue.close();
  await pool.end();
}
