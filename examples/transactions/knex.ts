/**
 * Enqueue inside a Knex transaction (the `pg` client), through
 * `knexClient(trx)` from djps/adapters. Committed, the row and the job both
 * exist; rolled back, neither does. test/examples.transactions.test.ts runs
 * it. In your code, import from "djps" and "djps/adapters" instead of
 * ../../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/transactions/knex.ts
 */
import knexFactory, { type Knex } from "knex";
import { fileURLToPath } from "node:url";
import { migrate, Queue } from "../../src/index.js";
import { knexClient } from "../../src/adapters/index.js";
import { checkDomain, SIGNUPS_TABLE } from "./app.js";

export async function signUp(knex: Knex, queue: Queue, email: string): Promise<string> {
  return knex.transaction(async (trx) => {
    await trx("signups").insert({ email });
    const { job } = await queue.enqueue("send_welcome", { email }, { client: knexClient(trx) });
    checkDomain(email);
    return job.id;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await migrate();
  const knex = knexFactory({ client: "pg", connection: process.env.DATABASE_URL });
  const queue = new Queue();
  await knex.raw(SIGNUPS_TABLE);
  const id = await signUp(knex, queue, "ada@example.com");
  console.log("committed: job", (await queue.getJob(id))?.status);
  await signUp(knex, queue, "eve@blocked.example").catch((e: Error) => console.log("rolled back:", e.message));
  await queue.close();
  await knex.destroy();
}
