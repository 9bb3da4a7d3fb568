import { z } from "zod";
import { parseDuration, serviceName, sloName, sloSpec } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

const nameParams = z.object({ name: sloName });

/** SLOs: declarations, live budgets and burn rates, OpenSLO import, Prometheus export; SLIs per version. */
export function sloRoutes(ctx: ApiContext): RouteDef[] {
  return [
    route({
      method: "GET",
      url: "/api/v1/slos",
      permission: "read",
      tag: "slos",
      summary: "SLOs with their error budgets, burn rates and firing rules now",
      handler: async () => ({ slos: await ctx.slos.list() }),
    }),
    route({
      method: "GET",
      url: "/api/v1/slos/:name",
      permission: "read",
      tag: "slos",
      summary: "One SLO: declaration, budget, SLA, every rule's burn rates",
      params: nameParams,
      handler: async ({ params }) => ({ slo: await ctx.slos.get(params.name) }),
    }),
    route({
      method: "PUT",
      url: "/api/v1/slos/:name",
      permission: "admin",
      tag: "slos",
      summary: "Declare or replace an SLO (the fields of gantry.yaml slos.NAME)",
      params: nameParams,
      body: sloSpec,
      handler: async ({ params, body, principal }) => {
        await ctx.slos.put([{ name: params.name, spec: body }], "api", principal.name);
        return { slo: await ctx.slos.get(params.name) };
      },
    }),
    route({
      method: "DELETE",
      url: "/api/v1/slos/:name",
      permission: "admin",
      tag: "slos",
      summary: "Delete an SLO declared through the API or imported (gantry.yaml ones are removed there)",
      params: nameParams,
      handler: async ({ params, principal }) => {
        await ctx.slos.delete(params.name, principal.name);
        return { deleted: params.name };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/slos/import/openslo",
      permission: "admin",
      tag: "slos",
      summary:
        "Import OpenSLO v1 YAML (kinds SLO, SLI, AlertPolicy, AlertCondition, DataSource); dryRun only checks it; prometheusUrl serves Prometheus metric sources that name no URL",
      body: z
        .object({
          yaml: z.string().min(1).max(1_000_000),
          dryRun: z.boolean().default(false),
          prometheusUrl: z.string().optional(),
        })
        .strict(),
      handler: async ({ body, principal }) => {
        const slos = await ctx.slos.importOpenSlo(body.yaml, principal.name, body.dryRun, {
          prometheusUrl: body.prometheusUrl,
        });
        return { dryRun: body.dryRun, imported: slos.map((s) => s.name) };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/slos/export/prometheus",
      permission: "read",
      tag: "slos",
      summary: "Prometheus recording and alerting rules equivalent to the SLOs (YAML in `rules`)",
      handler: async () => ({ rules: await ctx.slos.prometheusRules() }),
    }),
    route({
      method: "GET",
      url: "/api/v1/services/:service/slis",
      permission: "read",
      tag: "slos",
      summary: "Per-version SLIs over a window: requests/s, availability, latency percentiles, CPU, memory",
      params: z.object({ service: serviceName }),
      query: z.object({ window: z.string().default("5m") }).strict(),
      handler: async ({ params, query }) => {
        await ctx.catalog.get(params.service);
        const window = parseDuration(query.window);
        if (!window)
          throw new GantryError(
            "BAD_REQUEST",
            `window "${query.window}" is not a duration; write e.g. 5m or 1h`,
            {
              field: "window",
            },
          );
        return {
          service: params.service,
          window: query.window,
          versions: await ctx.slos.slis(params.service, window),
        };
      },
    }),
  ];
}
