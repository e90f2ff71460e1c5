import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestBed } from "./support/bed.js";
import { call, startApi, type ApiServer } from "./support/http.js";

// The OpenAPI document: valid OpenAPI 3.1 by a validator of its own, and made
// from the routes and schemas that serve and validate requests.

const bed = useTestBed("http_openapi");
let api: ApiServer;
let doc: any;

beforeAll(async () => {
  api = await startApi(bed.queue, { basePath: "/djps" });
  const r = await call(api.url, "GET", "/openapi.json");
  expect(r.status).toBe(200);
  doc = r.body;
});
afterAll(async () => api.close());

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: "/djps" }]);
    // The validator does refuse a broken document.
    const broken = structuredClone(doc);
    broken.paths["/jobs"].get.responses = "none";
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it("describes every endpoint", () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods as object).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(
      [
        "POST /jobs",
        "POST /jobs/batch",
        "GET /jobs/{id}",
        "GET /jobs",
        "POST /jobs/{id}/cancel",
        "POST /jobs/{id}/retry",
        "GET /stats",
        "GET /dead",
        "POST /dead/retry",
        "POST /dead/purge",
        "GET /queues",
        "POST /queues/{name}/limits",
        "POST /queues/{name}/pause",
        "POST /queues/{name}/resume",
        "GET /schedules",
        "GET /metrics",
        "GET /health",
        "GET /openapi.json",
        // The endpoints the dashboard reads besides the above.
        "GET /key",
        "GET /overview",
        "GET /events",
        "GET /search",
        "GET /dead/groups",
        "GET /jobs/{id}/trace",
      ].sort(),
    );
    expect(doc.paths["/health"].get.security).toEqual([]);
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it("renders the request schemas that validate requests", () => {
    const enqueue = doc.components.schemas.EnqueueRequest;
    expect(enqueue.required).toEqual(["type", "payload"]);
    expect(enqueue.additionalProperties).toBe(false);
    expect(enqueue.properties.priority).toMatchObject({ type: "integer", minimum: -32768, maximum: 32767 });
    expect(enqueue.properties.runAt).toMatchObject({ type: "string", format: "date-time" });
    expect(doc.components.schemas.BatchRequest.properties.jobs).toMatchObject({ minItems: 1, maxItems: 1000, items: { $ref: "#/components/schemas/EnqueueRequest" } });
    const list = doc.paths["/jobs"].get.parameters.map((p: any) => p.name);
    expect(list).toEqual(["status", "queue", "type", "group", "cursor", "limit"]);
    expect(doc.paths["/jobs"].post.responses["201"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/EnqueueResult" });
    expect(doc.paths["/jobs"].post.responses["400"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
  });
});
