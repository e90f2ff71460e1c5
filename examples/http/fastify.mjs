// The djps HTTP API inside a Fastify app (a sketch: fastify is not a
// dependency of djps; `npm install fastify` to run it).
import Fastify from "fastify";
import { Queue } from "djps";
import { createHandler } from "djps/http";

const queue = new Queue(); // DATABASE_URL
const api = createHandler({ queue, basePath: "/djps" });
const fastify = Fastify();
// Hand the raw request over before Fastify parses its body.
fastify.addContentTypeParser("*", (_req, _payload, done) => done(null));
fastify.all("/djps/*", (req, reply) => {
  reply.hijack();
  void api(req.raw, reply.raw);
});
await fastify.listen({ port: 8080 });
