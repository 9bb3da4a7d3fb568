import { z } from "zod";
import { environmentFor, matchesEtag } from "../../flags/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

const envQuery = z.object({
  env: z.string().optional().describe("the flag environment; an sdk token reads its own and needs none"),
});

const evaluationBatch = z
  .object({
    evaluations: z
      .array(
        z
          .object({
            flagKey: z.string().min(1).max(200),
            variant: z.string().min(1).max(200),
            count: z.number().int().min(1).max(1_000_000_000),
            lastAt: z.iso.datetime({ offset: true }),
          })
          .strict(),
      )
      .max(1000),
  })
  .strict();

/** What SDKs (and the OpenFeature provider) use: the environment's flag set, its changes, usage reports. */
export function flagSdkRoutes(ctx: ApiContext): RouteDef[] {
  const flags = ctx.flags.service;
  return [
    route({
      method: "GET",
      url: "/api/v1/sdk/flags",
      permission: "sync",
      tag: "flags-sdk",
      summary:
        'The environment\'s flag set {environment, revision, flagSet}, ETag "<revision>"; If-None-Match with it → 304',
      query: envQuery,
      handler: async ({ principal, query, request, reply }) => {
        const snapshot = flags.snapshot(environmentFor(principal, query.env));
        reply.header("etag", snapshot.etag).header("cache-control", "no-cache");
        if (matchesEtag(request.headers["if-none-match"], snapshot.etag)) return reply.code(304).send();
        reply.header("content-type", "application/json; charset=utf-8");
        return snapshot.body;
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/sdk/flags/stream",
      permission: "sync",
      tag: "flags-sdk",
      summary:
        "Server-sent events: `flags` (id = revision, data = the GET /api/v1/sdk/flags body) on connect unless Last-Event-ID is current, then after every change; `: keepalive` every 15 s",
      query: envQuery,
      handler: async ({ principal, query, request, reply }) => {
        const environment = environmentFor(principal, query.env);
        flags.snapshot(environment);
        reply.hijack();
        const lastEventId = request.headers["last-event-id"];
        ctx.flags.streams.open(
          environment,
          reply.raw,
          typeof lastEventId === "string" ? lastEventId : undefined,
        );
        return undefined;
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/sdk/flags/evaluations",
      permission: "report",
      tag: "flags-sdk",
      summary:
        "Report how often flags served which variant (up to 1000 entries); unknown flags and variants are ignored and counted",
      query: envQuery,
      body: evaluationBatch,
      status: 202,
      handler: async ({ principal, query, body }) => {
        const environment = environmentFor(principal, query.env);
        flags.environment(environment);
        const set = flags.state.set;
        const known = body.evaluations.filter((e) => {
          const flag = Object.hasOwn(set.flags, e.flagKey) ? set.flags[e.flagKey] : undefined;
          return flag !== undefined && Object.hasOwn(flag.variants, e.variant);
        });
        await ctx.flags.usage.record(
          environment,
          known.map((e) => ({ ...e, lastAt: new Date(e.lastAt).toISOString() })),
        );
        return { accepted: known.length, ignored: body.evaluations.length - known.length };
      },
    }),
  ];
}
