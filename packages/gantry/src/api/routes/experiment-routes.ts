import { z } from "zod";
import { resultBatch } from "../../experiments/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

/** Scientist experiment results: reported by applications (role sdk), read by people. */
export function experimentRoutes(ctx: ApiContext): RouteDef[] {
  return [
    route({
      method: "POST",
      url: "/api/v1/experiments/results",
      permission: "report",
      tag: "experiments",
      summary: "Report a batch of experiment results (what @gantry/sdk's publisher sends)",
      body: resultBatch,
      status: 202,
      handler: async ({ body }) => {
        const { recorded, duplicates } = await ctx.experiments.record(body.results);
        if (recorded > 0) ctx.experimentsReported?.(body.results.map((r) => r.name));
        return { accepted: body.results.length, recorded, duplicates };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/experiments",
      permission: "read",
      tag: "experiments",
      summary: "Experiments with their counts and mismatch rates",
      handler: async () => ({ experiments: await ctx.experiments.list() }),
    }),
    route({
      method: "GET",
      url: "/api/v1/experiments/:name",
      permission: "read",
      tag: "experiments",
      summary: "One experiment: counts, timing percentiles per behaviour, recent mismatches",
      params: z.object({ name: z.string().min(1).max(200) }),
      handler: async ({ params }) => ({ experiment: await ctx.experiments.get(params.name) }),
    }),
  ];
}
