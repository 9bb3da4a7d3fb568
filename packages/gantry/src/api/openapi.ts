import { z } from "zod";
import { leastRoleFor } from "../auth/index.ts";
import type { RouteDef } from "./route.ts";

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        field: { type: "string" },
        details: {},
      },
    },
  },
};

/** What a group of operations shares that no single summary says. */
const tagNotes: Record<string, string> = {
  oncall:
    "People, schedules, escalation policies and routes come from gantry.yaml (`source: config`, read-only here: change them in the file) and from this API (`source: api`, admin). A PUT body is the entry as written under gantry.yaml `oncall:`; a name gantry.yaml declares is refused (409), so is a name the entry uses that exists nowhere (400), and deleting what a policy, route, schedule, live override or an escalation under way still names (409, `details.referrers`). Routes made here are tried after gantry.yaml's, in name order. An incident escalates by the policy fixed when its escalation started.",
};

/** The OpenAPI 3.1 document of the API, generated from the same schemas that validate requests. */
export function openApiDocument(routes: RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, "{$1}");
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Gantry API",
      version,
      description:
        "Every call needs `Authorization: Bearer <token>`; roles: viewer (read), deployer (deploy), admin (everything), sdk (applications: report, sync), alerter (monitoring systems: send alerts).",
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) =>
      tagNotes[name] ? { name, description: tagNotes[name] } : { name },
    ),
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { Error: errorSchema },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

function operation(r: RouteDef): Record<string, unknown> {
  const parameters = [...schemaParameters(r.params, "path"), ...schemaParameters(r.query, "query")];
  const op: Record<string, unknown> = {
    summary: r.summary,
    tags: [r.tag],
    "x-gantry-role": leastRoleFor[r.permission],
    parameters,
    // A route that checks a credential of its own (a signed URL) takes no bearer token.
    ...(r.authenticate && { security: [] }),
    responses: {
      [String(r.status ?? 200)]: { description: "OK" },
      default: {
        description: "Error",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      },
    },
  };
  if (r.body) {
    op.requestBody = { required: true, content: { "application/json": { schema: toSchema(r.body) } } };
  } else if (r.rawBody) {
    op.requestBody = {
      required: true,
      content: { [r.rawBody]: { schema: { type: "string", format: "binary" } } },
    };
  }
  return op;
}

function schemaParameters(schema: z.ZodType | undefined, where: "path" | "query"): unknown[] {
  if (!schema) return [];
  const json = toSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    schema: s,
  }));
}

function toSchema(schema: z.ZodType): unknown {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}
