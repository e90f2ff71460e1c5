import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandler, createKey } from "../src/http/index.js";
import { expressApp } from "../examples/http/express.js";
import { useTestBed } from "./support/bed.js";
import { call } from "./support/http.js";

// The handler as Express middleware: the example app (mounted under /djps,
// before the app's own body parser), and mounted after express.json().

const bed = useTestBed("http_express");
const servers: Server[] = [];
let key: string;

async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  ({ key } = await createKey(bed.queue, { name: "express" }));
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe("Express", () => {
  it("serves the API under app.use('/djps', api) beside the app's own routes", async () => {
    const url = await listen(expressApp(bed.queue));
    const created = await call(url, "POST", "/djps/jobs", { key, body: { type: "t", payload: { a: 1 } } });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/djps/jobs/${created.body.job.id}`);
    expect((await call(url, "GET", `/djps/jobs/${created.body.job.id}`, { key })).body.payload).toEqual({ a: 1 });
    expect((await call(url, "GET", "/djps/health")).status).toBe(200);
    expect((await call(url, "GET", "/djps/stats")).status).toBe(401);
    const signup = await call(url, "POST", "/signup", { body: { email: "a@example.com" } });
    expect(signup.status).toBe(202);
    expect((await bed.queue.getJob(signup.body.jobId))?.payload).toEqual({ email: "a@example.com" });
  });

  it("takes a body express.json() already parsed", async () => {
    const app = express();
    app.use(express.json());
    app.use("/djps", createHandler({ queue: bed.queue, basePath: "/djps" }));
    const url = await listen(app);
    const created = await call(url, "POST", "/djps/jobs", { key, body: { type: "parsed", payload: [1, 2] } });
    expect(created.status).toBe(201);
    expect(created.body.job.payload).toEqual([1, 2]);
    const invalid = await call(url, "POST", "/djps/jobs", { key, body: { type: "parsed" } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.field).toBe("payload");
  });
});
