import { z } from "zod";
import { duration } from "../../config/duration.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";
import { parseSince } from "./admin-routes.ts";

const startBody = z
  .object({
    environment: z.string().min(1).describe("the environment whose flag changes are searched"),
    since: z.string().min(1).describe("the window: a duration back from now (2h) or a time"),
    check: z
      .string()
      .min(1)
      .describe(
        '"http:[METHOD] URL [header:NAME=VALUE]... [status<N]" or "sli:SERVICE error-rate<1%[,p99<300ms]"',
      ),
    on: z
      .string()
      .min(1)
      .optional()
      .describe("apply the changes to this environment instead (e.g. staging); default: environment"),
    settle: duration.optional().describe("wait after applying each prefix before checking (default 2s)"),
    window: duration.optional().describe("sli: how long to watch the router (default 10s)"),
    minRequests: z.number().int().min(1).optional().describe("sli: fewer requests is no answer (default 20)"),
    samples: z.number().int().min(1).max(10_000).optional().describe("http: requests per check (default 20)"),
    timeout: duration.optional().describe("http: per request (default 5s)"),
    reason: z.string().max(1000).optional(),
    dryRun: z.boolean().optional().describe("only list the changes and how many checks it may take"),
  })
  .strict();

/** `gantry flags bisect`: start, follow, list and cancel bisections (they run in the server). */
export function flagBisectRoutes(ctx: ApiContext): RouteDef[] {
  const bisects = ctx.flags.bisects;
  const id = z.object({ id: z.coerce.number().int().min(1) });
  return [
    route({
      method: "POST",
      url: "/api/v1/flag-bisects",
      permission: "deploy",
      tag: "flags",
      summary:
        "Start a bisection of an environment's flag changes since a time; 202 {bisect} (follow it with GET), or 200 {plan} for a dry run or an empty window. Changes what the target environment serves while it runs (admin for a protected one)",
      body: startBody,
      status: 202,
      handler: async ({ body, principal, reply }) => {
        const request = {
          environment: body.environment,
          since: parseSince(body.since),
          check: body.check,
          on: body.on,
          settleMs: body.settle,
          windowMs: body.window,
          minRequests: body.minRequests,
          samples: body.samples,
          timeoutMs: body.timeout,
          reason: body.reason,
        };
        // What the checks read of the live system: the router's series, the services.
        const probes = {
          routerMetrics: ctx.metrics,
          services: async () => (await ctx.catalog.list()).map((s) => s.name),
        };
        if (body.dryRun)
          return reply.code(200).send({ plan: await bisects.plan(request, principal, probes) });
        const started = await bisects.start(request, principal, probes);
        if ("plan" in started) return reply.code(200).send(started);
        return { bisect: started.record };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/flag-bisects",
      permission: "read",
      tag: "flags",
      summary: "The latest bisections, newest first",
      handler: async () => ({ bisects: await bisects.list() }),
    }),
    route({
      method: "GET",
      url: "/api/v1/flag-bisects/:id",
      permission: "read",
      tag: "flags",
      summary: "One bisection: its changes, checks so far, result and what was restored",
      params: id,
      handler: async ({ params }) => ({ bisect: await bisects.get(params.id) }),
    }),
    route({
      method: "DELETE",
      url: "/api/v1/flag-bisects/:id",
      permission: "deploy",
      tag: "flags",
      summary: "Cancel a running bisection; answers once every flag is restored",
      params: id,
      query: z.object({ reason: z.string().max(1000).optional() }),
      handler: async ({ params, principal, query }) => ({
        bisect: await bisects.cancel(params.id, principal, query.reason),
      }),
    }),
  ];
}
