import { z } from "zod";
import type { Route } from "./routes.js";
import { apiSchemas, errorResponseSchema } from "./schemas.js";

type JsonSchema = Record<string, unknown>;

/** The version of the API this document describes (not of the package). */
export const API_VERSION = "1.0.0";

const REF = (id: string) => `#/components/schemas/${id}`;

/** The registered schemas, rendered once: each as a component, referring to the others by `$ref`. */
function components(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(apiSchemas, { io: "input", uri: REF, unrepresentable: "any" }) as { schemas: Record<string, JsonSchema> };
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _drop, $id: _id, ...rest } = schema;
    out[id] = rest;
  }
  return out;
}

/** A schema: a `$ref` to its component when it is registered, else rendered in place. */
function schemaOf(schema: z.ZodType): JsonSchema {
  const meta = apiSchemas.get(schema);
  if (meta) return { $ref: REF(meta.id) };
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** The query parameters of an object schema, each with its own schema and description. */
function queryParameters(schema: z.ZodType): JsonSchema[] {
  const rendered = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(rendered.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: "query", required: rendered.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest };
  });
}

/** `/jobs/:id/cancel` as OpenAPI writes it: `/jobs/{id}/cancel`. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

/**
 * The OpenAPI 3.1 document of the API, made from the route table and the
 * same zod schemas that validate the requests, so it cannot describe an API
 * other than the one that runs.
 */
export function openApiDocument(routes: readonly Route[], options: { basePath: string; auth: boolean }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const errorContent = { "application/json": { schema: schemaOf(errorResponseSchema) } };
  for (const route of routes) {
    const parameters: JsonSchema[] = [];
    for (const [name, schema] of Object.entries(route.params ?? {})) {
      const { description, ...rest } = schemaOf(schema);
      parameters.push({ name, in: "path", required: true, ...(description ? { description } : {}), schema: rest });
    }
    if (route.query) parameters.push(...queryParameters(route.query));
    for (const [name, description] of Object.entries(route.headers ?? {})) {
      parameters.push({ name, in: "header", required: false, description, schema: { type: "string" } });
    }
    const responses: Record<string, JsonSchema> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const content = response.schema
        ? { "application/json": { schema: schemaOf(response.schema) } }
        : response.contentType
          ? { [response.contentType.split(";")[0]!]: { schema: { type: "string" } } }
          : Number(status) >= 400
            ? errorContent
            : undefined;
      responses[status] = { description: response.description, ...(content ? { content } : {}) };
    }
    const operation: JsonSchema = {
      operationId: operationId(route),
      summary: route.summary,
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: schemaOf(route.body) } } } } : {}),
      responses,
      ...(route.access === "public" || !options.auth ? { security: [] } : {}),
    };
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "djps HTTP API",
      version: API_VERSION,
      description: "Enqueue, inspect and steer djps jobs over HTTP. Errors have one shape: `{ error: { code, message, field? } }`.",
    },
    servers: [{ url: options.basePath || "/" }],
    ...(options.auth ? { security: [{ bearer: [] }] } : {}),
    paths,
    components: {
      schemas: components(),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key from `djps keys create`." } },
    },
  };
}

/** `POST /jobs/:id/cancel` -> `postJobsIdCancel`. */
function operationId(route: Route): string {
  const words = route.path.split("/").filter(Boolean).map((w) => w.replace(/^:/, ""));
  return route.method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}
