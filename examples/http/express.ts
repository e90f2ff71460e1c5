/**
 * The djps HTTP API inside an Express app, beside the app's own routes.
 * test/http.express.test.ts runs this app. In your code, import from "djps"
 * and "djps/http" instead of ../../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/http/express.ts
 */
import express from "express";
import { fileURLToPath } from "node:url";
import { Queue } from "../../src/index.js";
import { createHandler } from "../../src/http/index.js";

export function expressApp(queue: Queue): express.Express {
  const app = express();
  // Before any body parser: the handler reads the body itself, with its limits.
  // Express strips "/djps" from req.url; the handler takes paths either way.
  app.use("/djps", createHandler({ queue, basePath: "/djps" }));
  // The app's own routes.
  app.use(express.json());
  app.post("/signup", async (req, res) => {
    const { job } = await queue.enqueue("send_welcome", { email: req.body.email });
    res.status(202).json({ jobId: job.id });
  });
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  expressApp(new Queue()).listen(8080, () => console.log("listening on http://127.0.0.1:8080 (API under /djps)"));
}
