import { z } from "zod";
import { roles } from "../../auth/index.ts";
import { parseDuration, serviceName } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

/** Audit trail, logs, metrics and tokens. */
export function adminRoutes(ctx: ApiContext): RouteDef[] {
  return [
    route({
      method: "GET",
      url: "/api/v1/audit",
      permission: "read",
      tag: "audit",
      summary: "The audit trail, oldest first",
      query: z.object({
        service: serviceName.optional(),
        since: z.string().optional(),
        action: z.string().optional(),
        limit: z.coerce.number().int().min(1).max(10_000).default(1000),
      }),
      handler: async ({ query }) => ({
        events: await ctx.audit.query({ ...query, since: query.since ? parseSince(query.since) : undefined }),
      }),
    }),
    route({
      method: "GET",
      url: "/api/v1/services/:service/logs",
      permission: "read",
      tag: "services",
      summary: "Instance logs (text); follow=true streams new lines",
      params: z.object({ service: serviceName }),
      query: z.object({
        version: z.string().optional(),
        tail: z.coerce.number().int().min(0).max(10_000_000).default(16_384),
        follow: z.enum(["true", "false", "1", "0"]).optional(),
      }),
      handler: async ({ params, query, reply, request }) => {
        await ctx.catalog.get(params.service);
        const records = (await ctx.instances.alive(params.service)).filter(
          (i) => !query.version || i.version === query.version,
        );
        if (records.length === 0 && query.version) {
          const stopped = await ctx.instances.ofVersion(params.service, query.version);
          records.push(...stopped.slice(0, 4));
        }
        reply.raw.writeHead(200, {
          "content-type": "text/plain; charset=utf-8",
          "cache-control": "no-store",
        });
        for (const r of records) {
          const text = await ctx.runtime.logs(r.id, query.tail).catch(() => "");
          reply.raw.write(prefixLines(r.id, text));
        }
        if (query.follow === "true" || query.follow === "1") {
          const abort = new AbortController();
          request.raw.on("close", () => abort.abort());
          await Promise.all(
            records.map((r) =>
              ctx.runtime
                .followLogs(r.id, (chunk) => reply.raw.write(prefixLines(r.id, chunk)), abort.signal)
                .catch(() => undefined),
            ),
          );
        }
        reply.raw.end();
        reply.hijack();
        return undefined;
      },
    }),
    route({
      method: "GET",
      url: "/metrics",
      permission: "read",
      tag: "meta",
      summary: "Prometheus metrics of the control plane and the router (version is a label)",
      handler: async ({ reply }) => {
        reply.header("content-type", "text/plain; version=0.0.4; charset=utf-8");
        return ctx.metrics();
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/tokens",
      permission: "admin",
      tag: "tokens",
      summary: "API tokens (names and roles, never the secrets)",
      handler: async () => ({ tokens: await ctx.tokens.list() }),
    }),
    route({
      method: "POST",
      url: "/api/v1/tokens",
      permission: "admin",
      tag: "tokens",
      summary: "Create a token; the secret is in this response only",
      body: z
        .object({
          name: z.string().min(1).max(100),
          role: z.enum(roles),
          environment: z
            .string()
            .optional()
            .describe("sdk tokens: the flag environment the token reads (SDK sync, OFREP)"),
        })
        .strict(),
      status: 201,
      handler: async ({ body, principal }) => {
        if (body.environment !== undefined) {
          if (body.role !== "sdk")
            throw new GantryError(
              "BAD_REQUEST",
              `only sdk tokens are bound to a flag environment; drop environment or use role sdk (got role ${body.role})`,
              { field: "environment" },
            );
          ctx.flags.service.environment(body.environment);
        }
        const created = await ctx.tokens.create(body.name, body.role, body.environment);
        await ctx.audit.record({
          actor: principal.name,
          action: "token.created",
          subject: `token/${created.tokenId}`,
          data: {
            name: body.name,
            role: body.role,
            ...(body.environment !== undefined && { environment: body.environment }),
          },
        });
        return created;
      },
    }),
    route({
      method: "DELETE",
      url: "/api/v1/tokens/:id",
      permission: "admin",
      tag: "tokens",
      summary: "Revoke a token",
      params: z.object({ id: z.string().uuid() }),
      handler: async ({ params, principal }) => {
        if (!(await ctx.tokens.revoke(params.id)))
          throw new GantryError("NOT_FOUND", `no token ${params.id}`);
        await ctx.audit.record({
          actor: principal.name,
          action: "token.revoked",
          subject: `token/${params.id}`,
        });
        return { revoked: params.id };
      },
    }),
  ];
}

/** "1h", "30m" (that long ago) or an ISO time. */
export function parseSince(text: string, now = new Date()): Date {
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now.getTime() - ms);
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) {
    throw new GantryError(
      "BAD_REQUEST",
      `since "${text}" is neither a duration (e.g. 1h) nor a time (e.g. 2026-11-22T10:00:00Z)`,
      {
        field: "since",
      },
    );
  }
  return at;
}

function prefixLines(id: string, text: string): string {
  if (!text) return "";
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return `${lines.map((l) => `${id} | ${l}`).join("\n")}\n`;
}
