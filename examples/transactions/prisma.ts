/**
 * Enqueue inside a Prisma interactive transaction (with the
 * `@prisma/adapter-pg` driver adapter), through `prismaClient(tx)` from
 * djps/adapters. Committed, the row and the job both exist; rolled back,
 * neither does. The client in prisma/generated/ is made from
 * prisma/schema.prisma (see docs/transactions.md).
 * test/examples.transactions.test.ts runs it. In your code, import from
 * "djps" and "djps/adapters" instead of ../../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/transactions/prisma.ts
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { fileURLToPath } from "node:url";
import { migrate, Queue } from "../../src/index.js";
import { prismaClient } from "../../src/adapters/index.js";
import { checkDomain, SIGNUPS_TABLE } from "./app.js";
import { PrismaClient } from "./prisma/generated/client.js";

export async function signUp(prisma: PrismaClient, queue: Queue, email: string): Promise<string> {
  return prisma.$transaction(async (tx) => {
    await tx.signup.create({ data: { email } });
    const { job } = await queue.enqueue("send_welcome", { email }, { client: prismaClient(tx) });
    checkDomain(email);
    return job.id;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await migrate();
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) });
  const queue = new Queue();
  await prisma.$executeRawUnsafe(SIGNUPS_TABLE);
  const id = await signUp(prisma, queue, "ada@example.com");
  console.log("committed: job", (await queue.getJob(id))?.status);
  await signUp(prisma, queue, "eve@blocked.example").catch((e: Error) => console.log("rolled back:", e.message));
  await queue.close();
  await prisma.$disconnect();
}
