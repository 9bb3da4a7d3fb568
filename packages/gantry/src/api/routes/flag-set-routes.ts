import { z } from "zod";
import { applyDocument, staleFlags } from "../../flags/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

const key = z.string().min(1).max(128);
const reason = z.string().max(1000).optional();

const environmentPatch = z
  .object({
    enabled: z.boolean().optional(),
    offVariant: key.optional(),
    fallthrough: z.record(z.string(), z.unknown()).optional(),
    rules: z.array(z.unknown()).optional(),
    prerequisites: z.array(z.unknown()).optional(),
  })
  .strict();

const flagDocument = z
  .object({
    flags: z.record(z.string(), z.unknown()).optional(),
    segments: z.record(z.string(), z.unknown()).optional(),
    plans: z.record(z.string(), z.unknown()).optional(),
    planAttribute: z.string().min(1).optional(),
  })
  .strict();

/** The whole flag set (export, declarative apply), scheduled changes and the stale report. */
export function flagSetRoutes(ctx: ApiContext): RouteDef[] {
  const flags = ctx.flags.service;
  return [
    route({
      method: "GET",
      url: "/api/v1/flag-set",
      permission: "read",
      tag: "flags",
      summary: "The whole flag set (every environment), as `gantry apply` takes it",
      handler: async () => ({ flagSet: flags.state.set }),
    }),
    route({
      method: "POST",
      url: "/api/v1/flag-set/apply",
      permission: "deploy",
      tag: "flags",
      summary:
        "Sync a declarative document {flags, segments, plans, planAttribute}: all of it validated first, applied in one transaction; prune removes what it does not define; dryRun only answers the diff",
      body: z
        .object({
          document: flagDocument,
          prune: z.boolean().default(false),
          dryRun: z.boolean().default(false),
          reason,
          source: z.string().max(500).optional().describe("the file it came from, for the audit trail"),
        })
        .strict(),
      handler: async ({ body, principal }) => {
        const result = await flags.change(
          {
            actor: principal.name,
            role: principal.role,
            reason: body.reason,
            source: body.source ? `apply ${body.source}` : "apply",
          },
          (set) => applyDocument(set, body.document, body.prune, flags.environments),
          body.dryRun,
        );
        return result;
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/flag-schedules",
      permission: "read",
      tag: "flags",
      summary: "Scheduled flag changes, soonest first",
      query: z.object({
        status: z.enum(["pending", "applied", "failed", "cancelled"]).optional(),
        flag: key.optional(),
      }),
      handler: async ({ query }) => ({
        schedules: await ctx.flags.schedules.list({ status: query.status, flagKey: query.flag }),
      }),
    }),
    route({
      method: "POST",
      url: "/api/v1/flag-schedules",
      permission: "deploy",
      tag: "flags",
      summary:
        "Schedule a change of one environment of a flag at a time; validated and authorised now, applied then (also after a restart)",
      body: z
        .object({
          flagKey: key,
          environment: key,
          at: z.iso.datetime({ offset: true }),
          change: environmentPatch,
          reason,
        })
        .strict(),
      status: 201,
      handler: async ({ body, principal }) => ({
        schedule: await ctx.flags.schedules.create(
          { ...body, at: new Date(body.at) },
          { actor: principal.name, role: principal.role, reason: body.reason },
        ),
      }),
    }),
    route({
      method: "DELETE",
      url: "/api/v1/flag-schedules/:id",
      permission: "deploy",
      tag: "flags",
      summary: "Cancel a pending scheduled change",
      params: z.object({ id: z.coerce.number().int().min(1) }),
      query: z.object({ reason }),
      handler: async ({ params, query, principal }) => ({
        schedule: await ctx.flags.schedules.cancel(params.id, principal.name, query.reason),
      }),
    }),
    route({
      method: "GET",
      url: "/api/v1/flag-reports/stale",
      permission: "read",
      tag: "flags",
      summary:
        "Flags that look finished with: never evaluated since created `days` ago, not evaluated for `days`, or serving one variant everywhere for `days`",
      query: z.object({ days: z.coerce.number().int().min(1).max(3650).default(30) }),
      handler: async ({ query }) => {
        const flagsWithDates = Object.keys(flags.state.set.flags).map((k) => ({
          key: k,
          createdAt: flags.meta(k)?.createdAt ?? new Date(0).toISOString(),
        }));
        return {
          days: query.days,
          stale: staleFlags({
            flags: flagsWithDates,
            usage: await ctx.flags.usage.rows(),
            now: new Date(),
            days: query.days,
          }),
        };
      },
    }),
  ];
}
