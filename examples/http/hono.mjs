// The djps HTTP API inside a Hono app on Node (a sketch: hono and
// @hono/node-server are not dependencies of djps; install them to run it).
import { serve } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { Hono } from "hono";
import { Queue } from "djps";
import { createHandler } from "djps/http";

const queue = new Queue(); // DATABASE_URL
const api = createHandler({ queue, basePath: "/djps" });
const app = new Hono();
app.all("/djps/*", async (c) => {
  await api(c.env.incoming, c.env.outgoing);
  return RESPONSE_ALREADY_SENT;
});
serve({ fetch: app.fetch, port: 8080 });
