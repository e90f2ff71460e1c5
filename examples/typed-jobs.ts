/**
 * Typed jobs, end to end, from one set of zod schemas: the Queue checks each
 * payload before it is stored (and TypeScript checks the call), the Worker
 * checks it again before the handler runs (a job enqueued by older code, from
 * SQL or over HTTP did not pass the Queue's check) and types the handler's
 * `payload` as the schema's output.
 *
 * test/examples.run.test.ts runs it. In your code, import from "djps"
 * instead of ../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/typed-jobs.ts
 */
import { z } from "zod";
import { migrate, Queue, ValidationError, Worker } from "../src/index.js";

// Shared by the producer and the worker, e.g. in a module of their own.
const schemas = {
  send_email: z.object({ to: z.email(), subject: z.string().min(1) }),
  resize_image: z.object({ url: z.url(), width: z.number().int().positive().max(4096) }),
};

await migrate();
const queue = new Queue({ schemas });

const worker = new Worker({
  // payload: { to: string; subject: string }
  send_email: async (payload) => ({ delivered: `${payload.subject} -> ${payload.to}` }),
  // payload: { url: string; width: number }
  resize_image: async (payload) => ({ thumbnail: `${payload.url}?w=${payload.width}` }),
}, { schemas });
await worker.start();

const email = await queue.enqueueAndWait("send_email", { to: "ada@example.com", subject: "Welcome" }, {}, { timeoutMs: 30_000 });
console.log("send_email:", email.result);
const image = await queue.enqueueAndWait("resize_image", { url: "https://example.com/a.png", width: 320 }, {}, { timeoutMs: 30_000 });
console.log("resize_image:", image.result);

// Caught by TypeScript: `width` must be a number.
// await queue.enqueue("resize_image", { url: "https://example.com/a.png", width: "320" });

// Caught at run time, before anything is stored:
try {
  await queue.enqueue("send_email", { to: "not an address", subject: "Hi" });
} catch (error) {
  if (!(error instanceof ValidationError)) throw error;
  console.log(`refused: ${error.field}`);
}

await worker.stop();
await queue.close();
