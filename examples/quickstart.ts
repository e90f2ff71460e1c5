import { Queue, Worker, migrate } from "djps";

await migrate({ connectionString: process.env.DATABASE_URL }); // or: npx djps migrate

const mailer = { // stands in for your mail client
  send: async (message: { to: string }, _options: { signal: AbortSignal }) => ({ id: `sent-to-${message.to}` }),
};

const queue = new Queue(); // DATABASE_URL by default; or { connectionString } / { pool }
const { job, created } = await queue.enqueue("send_email", { to: "a@b.com" }, {
  idempotencyKey: "welcome-42", // the same (type, key) again returns this job, created: false
  priority: 10,                 // higher runs first
  delayMs: 100,                 // or runAt: new Date(...)
  maxAttempts: 5,
  queue: "emails",
});

const worker = new Worker({
  send_email: async (payload, ctx) => {
    const sent = await mailer.send(payload as { to: string }, { signal: ctx.signal });
    return { messageId: sent.id }; // stored as the job's result
  },
}, { concurrency: 10, queues: ["emails"] });
await worker.start();
process.on("SIGTERM", () => worker.stop()); // or { handleSignals: true }

const done = await queue.waitFor(job.id, { timeoutMs: 30_000 }); // or: queue.enqueueAndWait(...)
console.log(created, done.status, done.result); // true succeeded { messageId: 'sent-to-a@b.com' }

await worker.stop();
await queue.close();
