/**
 * Enqueue from a Fastify route, and read the job back: POST /reports asks for
 * a report and answers 202 with the job's id at once; GET /reports/:id tells
 * how it is going and gives the result when it is there. Fastify's JSON
 * schema checks the body; djps checks the job. A worker in the same process
 * builds the reports.
 *
 * test/examples.run.test.ts runs it. In your code, import from "djps"
 * instead of ../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/fastify.ts   # PORT=8080 by default
 *   curl -X POST localhost:8080/reports -H 'content-type: application/json' -d '{"month":"2026-11"}'
 */
import Fastify from "fastify";
import { JobNotFoundError, migrate, Queue, ValidationError, Worker } from "../src/index.js";

await migrate();
const queue = new Queue();
const app = Fastify();

app.post<{ Body: { month: string } }>("/reports", {
  schema: {
    body: {
      type: "object",
      required: ["month"],
      properties: { month: { type: "string", pattern: "^\\d{4}-\\d{2}$" } },
      additionalProperties: false,
    },
  },
}, async (request, reply) => {
  const { month } = request.body;
  // One report per month: asking again returns the job already there.
  const { job, created } = await queue.enqueue("build_report", { month }, { idempotencyKey: `report:${month}`, queue: "reports" });
  return reply.code(created ? 202 : 200).send({ jobId: job.id, status: job.status });
});

app.get<{ Params: { id: string } }>("/reports/:id", async (request, reply) => {
  try {
    const job = await queue.getJob(request.params.id);
    if (!job) return reply.code(404).send({ error: "no such report" });
    return { status: job.status, result: job.result };
  } catch (error) {
    if (error instanceof ValidationError || error instanceof JobNotFoundError) return reply.code(400).send({ error: error.message });
    throw error;
  }
});

const worker = new Worker({
  build_report: async (payload) => {
    const { month } = payload as { month: string };
    return { month, total: 42 };
  },
}, { queues: ["reports"] });
await worker.start();

const address = await app.listen({ port: Number(process.env.PORT ?? 8080), host: "127.0.0.1" });
console.log(`listening on ${address}`);

async function shutdown(): Promise<void> {
  await app.close();
  await worker.stop({ timeoutMs: 10_000 });
  await queue.close();
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
