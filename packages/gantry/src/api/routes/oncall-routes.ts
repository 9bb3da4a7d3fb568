import { z } from "zod";
import { formatDuration, parseDuration } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import { onCallAt, shifts } from "../../oncall/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

const at = (text: string | undefined, field: string): number => {
  if (text === undefined) return Date.now();
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new GantryError(
      "BAD_REQUEST",
      `${field} "${text}" is not a time; write ISO 8601, e.g. 2026-03-29T09:00:00+01:00`,
      {
        field,
      },
    );
  return t;
};

/**
 * Who is on call now or at T, a schedule's shifts, overrides, and the pages of incidents;
 * writing people, schedules, policies and routes is in oncall-declaration-routes.ts.
 */
export function oncallRoutes(ctx: ApiContext): RouteDef[] {
  return [
    route({
      method: "GET",
      url: "/api/v1/oncall",
      permission: "read",
      tag: "oncall",
      summary: "Who is on call in every schedule at a time (now by default), and the escalation policies",
      query: z.object({ at: z.string().optional() }).strict(),
      handler: async ({ query }) => {
        const t = at(query.at, "at");
        return {
          at: new Date(t).toISOString(),
          schedules: [...ctx.oncall.schedules()].map(([name, s]) => ({ name, onCall: onCallAt(s, t) })),
          policies: [...ctx.oncall.policies()].map(([name, p]) => ({
            name,
            repeat: p.repeat,
            levels: p.levels.map((l) => ({ targets: l.targets, delay: formatDuration(l.delay) })),
          })),
          routes: ctx.oncall.routes().map((r) => ({ ...r.spec, name: r.name, source: r.source })),
          problems: ctx.oncall.problems(),
        };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/oncall/schedules/:name",
      permission: "read",
      tag: "oncall",
      summary:
        "A schedule: its declaration and source, what names it, and its final shifts (layers, restrictions and overrides applied) from a time, for a duration",
      params: z.object({ name: z.string() }),
      query: z.object({ from: z.string().optional(), for: z.string().default("7d") }).strict(),
      handler: async ({ params, query }) => {
        const schedule = ctx.oncall.schedule(params.name);
        const from = at(query.from, "from");
        const length = parseDuration(query.for);
        if (!length || length > 90 * 86_400_000)
          throw new GantryError("BAD_REQUEST", `for "${query.for}" must be a duration up to 90d, e.g. 7d`, {
            field: "for",
          });
        return {
          name: params.name,
          schedule: ctx.oncall.declaration("schedule", params.name),
          referencedBy: await ctx.oncall.referrers("schedule", params.name),
          onCall: onCallAt(schedule, from),
          shifts: shifts(schedule, from, from + length).map((s) => ({
            ...s,
            from: new Date(s.from).toISOString(),
            to: new Date(s.to).toISOString(),
          })),
          overrides: ctx.oncall.overrides(params.name),
        };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/oncall/schedules/:name/overrides",
      permission: "deploy",
      tag: "oncall",
      summary: "Put someone on call for a schedule between two times, above every layer",
      params: z.object({ name: z.string() }),
      body: z
        .object({
          person: z.string(),
          from: z.iso.datetime({ offset: true }),
          to: z.iso.datetime({ offset: true }),
          reason: z.string().max(500).optional(),
        })
        .strict(),
      status: 201,
      handler: async ({ params, body, principal }) => {
        const override = await ctx.oncall.addOverride({ schedule: params.name, ...body }, principal.name);
        await ctx.audit.record({
          actor: principal.name,
          action: "oncall.override.created",
          subject: `schedule/${params.name}`,
          reason: body.reason ?? null,
          data: { person: body.person, from: body.from, to: body.to },
        });
        return { override };
      },
    }),
    route({
      method: "DELETE",
      url: "/api/v1/oncall/overrides/:id",
      permission: "deploy",
      tag: "oncall",
      summary: "Delete an override made through the API",
      params: z.object({ id: z.coerce.number().int().positive() }),
      handler: async ({ params, principal }) => {
        const removed = await ctx.oncall.deleteOverride(params.id);
        await ctx.audit.record({
          actor: principal.name,
          action: "oncall.override.deleted",
          subject: `schedule/${removed.schedule}`,
          data: { person: removed.person },
        });
        return { deleted: params.id };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/incidents/:id/pages",
      permission: "read",
      tag: "oncall",
      summary: "The pages of an incident: who, how, which step, delivery status and attempts",
      params: z.object({ id: z.coerce.number().int().positive() }),
      handler: async ({ params }) => {
        await ctx.incidents.get(params.id);
        return { pages: await ctx.pager.pages(params.id) };
      },
    }),
  ];
}
