/**
 * The outbox pattern in an Express app: a sign-up writes the user and
 * enqueues the welcome email in ONE transaction, so the email goes out if
 * and only if the user exists. A second sign-up with the same address fails
 * on the table's primary key after its enqueue; the rollback takes the job
 * with it. A worker in the same process sends the emails (it could as well
 * run elsewhere: see examples/standalone-worker.ts).
 *
 * test/examples.run.test.ts runs it. In your code, import from "djps"
 * instead of ../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/express-outbox.ts   # PORT=8080 by default
 *   curl -X POST localhost:8080/signup -H 'content-type: application/json' -d '{"email":"ada@example.com"}'
 */
import express from "express";
import pg from "pg";
import { migrate, Queue, ValidationError, Worker } from "../src/index.js";

const UNIQUE_VIOLATION = "23505";

await migrate();
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
await pool.query("CREATE TABLE IF NOT EXISTS users (email text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())");
const queue = new Queue({ pool });

const app = express();
app.use(express.json());
app.post("/signup", async (req, res) => {
  const email: unknown = req.body?.email;
  if (typeof email !== "string" || !email.includes("@")) {
    res.status(400).json({ error: "email: expected an address" });
    return;
  }
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const { job } = await queue.enqueue("send_welcome", { email }, { client });
    await client.query("INSERT INTO users (email) VALUES ($1)", [email]);
    await client.query("COMMIT");
    res.status(201).json({ email, jobId: job.id });
  } catch (error) {
    await client.query("ROLLBACK");
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) res.status(409).json({ error: `${email} has already signed up` });
    else if (error instanceof ValidationError) res.status(400).json({ error: error.message });
    else res.status(500).json({ error: "sign-up failed" });
  } finally {
    client.release();
  }
});

const worker = new Worker({
  send_welcome: async (payload) => {
    const { email } = payload as { email: string };
    console.log(`welcome email sent to ${email}`);
    return { sent: true };
  },
}, { connectionString: process.env.DATABASE_URL });
await worker.start();

const server = app.listen(Number(process.env.PORT ?? 8080), "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : ""}`);
});

async function shutdown(): Promise<void> {
  server.close();
  await worker.stop({ timeoutMs: 10_000 });
  await queue.close();
  await pool.end();
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
