import { z } from "zod";
import type { Principal } from "../../auth/index.ts";
import {
  type ChangeBy,
  type ChangeResult,
  createFlag,
  type FlagService,
  killFlag,
  lifecycleOf,
  putPart,
  removeFlag,
  removePart,
  replaceFlag,
  requireFlag,
  setEnvironment,
} from "../../flags/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";
import { parseSince } from "./admin-routes.ts";

const key = z.string().min(1).max(128);
const reason = z.string().max(1000).optional();
/** The rest of the body is the flag (or environment, segment, plan) in the evaluator's format. */
const flagBody = z.looseObject({ key, reason });
const editBody = z.looseObject({
  version: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("the flag version read; another current version → 409"),
  reason,
});

function by(principal: Principal, why: string | undefined, extra: Partial<ChangeBy> = {}): ChangeBy {
  return { actor: principal.name, role: principal.role, reason: why, ...extra };
}

function without<T extends Record<string, unknown>>(body: T, ...fields: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !fields.includes(k)));
}

/** A flag as the API shows it: its definition with version and who made and changed it. */
export function flagView(flags: FlagService, flagKey: string): Record<string, unknown> {
  const definition = flags.state.set.flags[flagKey];
  return { key: flagKey, ...definition, ...flags.meta(flagKey) };
}

function changed(result: ChangeResult) {
  return { changes: result.changes, revisions: result.revisions };
}

/** Flags, segments and plans: read by viewers, changed by deployers (admins in protected environments). */
export function flagRoutes(ctx: ApiContext): RouteDef[] {
  const flags = ctx.flags.service;
  const lifecycle = async (flagKey: string) => lifecycleOf(await ctx.flags.usage.rows(flagKey));
  const parts = (["segments", "plans"] as const).flatMap((kind) => {
    const url = kind === "segments" ? "/api/v1/flag-segments" : "/api/v1/flag-plans";
    const one = kind === "segments" ? "segment" : "plan";
    return [
      route({
        method: "GET",
        url,
        permission: "read",
        tag: "flags",
        summary: `Every ${one}`,
        handler: async () => ({ [kind]: flags.state.set[kind] }),
      }),
      route({
        method: "PUT",
        url: `${url}/:key`,
        permission: "deploy",
        tag: "flags",
        summary: `Create or replace a ${one} (the body is the ${one} in the flag-set format, plus reason)`,
        params: z.object({ key }),
        body: z.looseObject({ reason }),
        handler: async ({ params, body, principal }) => {
          const result = await flags.change(by(principal, body.reason), (set) =>
            putPart(set, kind, params.key, without(body, "reason")),
          );
          return { [one]: flags.state.set[kind][params.key], ...changed(result) };
        },
      }),
      route({
        method: "DELETE",
        url: `${url}/:key`,
        permission: "deploy",
        tag: "flags",
        summary: `Delete a ${one}; refused while a flag or plan refers to it`,
        params: z.object({ key }),
        query: z.object({ reason }),
        handler: async ({ params, query, principal }) =>
          changed(
            await flags.change(by(principal, query.reason), (set) => removePart(set, kind, params.key)),
          ),
      }),
    ];
  });
  return [
    route({
      method: "GET",
      url: "/api/v1/flags",
      permission: "read",
      tag: "flags",
      summary: "Every flag with its environments, version and lifecycle (last evaluated, what it served)",
      handler: async () => {
        const usage = await ctx.flags.usage.rows();
        return {
          environments: flags.environments.map((e) => ({
            ...e,
            revision: flags.snapshot(e.name).revision,
          })),
          planAttribute: flags.state.set.planAttribute,
          flags: Object.keys(flags.state.set.flags)
            .sort()
            .map((k) => ({
              ...flagView(flags, k),
              lifecycle: lifecycleOf(usage.filter((u) => u.flagKey === k)),
            })),
        };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/flags",
      permission: "deploy",
      tag: "flags",
      summary:
        "Create a flag: {key, type, variants, defaultVariant, description?, environments?, reason?}; environments left out are off",
      body: flagBody,
      status: 201,
      handler: async ({ body, principal }) => {
        const result = await flags.change(by(principal, body.reason), (set) =>
          createFlag(set, body.key, without(body, "key", "reason"), flags.environments),
        );
        return { flag: flagView(flags, body.key), ...changed(result) };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/flags/:key",
      permission: "read",
      tag: "flags",
      summary: "One flag with its version and lifecycle",
      params: z.object({ key }),
      handler: async ({ params }) => {
        requireFlag(flags.state.set, params.key);
        return { flag: flagView(flags, params.key), lifecycle: await lifecycle(params.key) };
      },
    }),
    route({
      method: "PUT",
      url: "/api/v1/flags/:key",
      permission: "deploy",
      tag: "flags",
      summary:
        "Replace a flag (the body is the flag, plus version? and reason?); environments left out are off",
      params: z.object({ key }),
      body: editBody,
      handler: async ({ params, body, principal }) => {
        const expected = body.version === undefined ? undefined : { key: params.key, version: body.version };
        const result = await flags.change(by(principal, body.reason, { expectedVersion: expected }), (set) =>
          replaceFlag(set, params.key, without(body, "version", "reason", "key"), flags.environments),
        );
        return { flag: flagView(flags, params.key), ...changed(result) };
      },
    }),
    route({
      method: "PUT",
      url: "/api/v1/flags/:key/environments/:environment",
      permission: "deploy",
      tag: "flags",
      summary:
        "Replace one environment of a flag: {enabled, offVariant?, prerequisites?, rules?, fallthrough?, version?, reason?}",
      params: z.object({ key, environment: key }),
      body: editBody,
      handler: async ({ params, body, principal }) => {
        flags.environment(params.environment);
        const expected = body.version === undefined ? undefined : { key: params.key, version: body.version };
        const result = await flags.change(by(principal, body.reason, { expectedVersion: expected }), (set) =>
          setEnvironment(set, params.key, params.environment, without(body, "version", "reason")),
        );
        return { flag: flagView(flags, params.key), ...changed(result) };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/flags/:key/environments/:environment/kill",
      permission: "deploy",
      tag: "flags",
      summary:
        "Kill switch: the flag off in the environment, serving its off variant (or the variant given, which becomes the off variant) to everyone; a deployer may do it in a protected environment; reason required",
      params: z.object({ key, environment: key }),
      body: z.object({ reason: z.string().trim().min(1).max(1000), variant: key.optional() }).strict(),
      handler: async ({ params, body, principal }) => {
        flags.environment(params.environment);
        const killer = by(principal, body.reason, { action: "flag.killed", allowProtected: true });
        const kill = (set: Parameters<typeof killFlag>[0]) =>
          killFlag(set, params.key, params.environment, body.variant);
        // Checked first, then pending schedules cancelled, so none can turn the killed flag back on.
        await flags.change(killer, kill, true);
        const cancelledSchedules = await ctx.flags.schedules.cancelFor(
          params.key,
          params.environment,
          principal.name,
          `cancelled by the kill switch: ${body.reason}`,
        );
        const result = await flags.change(killer, kill);
        const flag = flags.state.set.flags[params.key]!;
        const env = flag.environments[params.environment]!;
        return {
          flag: flagView(flags, params.key),
          serving: env.offVariant ?? flag.defaultVariant,
          cancelledSchedules,
          ...changed(result),
        };
      },
    }),
    route({
      method: "DELETE",
      url: "/api/v1/flags/:key",
      permission: "deploy",
      tag: "flags",
      summary: "Delete a flag; refused while another flag or a plan refers to it",
      params: z.object({ key }),
      query: z.object({ reason }),
      handler: async ({ params, query, principal }) => {
        const result = await flags.change(by(principal, query.reason), (set) => removeFlag(set, params.key));
        await ctx.flags.usage.forget(params.key);
        await ctx.flags.schedules.cancelFor(params.key, undefined, principal.name, "the flag was deleted");
        return changed(result);
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/flags/:key/history",
      permission: "read",
      tag: "flags",
      summary: "Every change of a flag, oldest first: actor, reason, field diff, before and after",
      params: z.object({ key }),
      query: z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(1000) }),
      handler: async ({ params, query }) => ({
        events: await ctx.audit.query({ subject: `flag/${params.key}`, limit: query.limit }),
      }),
    }),
    route({
      method: "GET",
      url: "/api/v1/flag-history",
      permission: "read",
      tag: "flags",
      summary:
        "Changes of flags, segments and plans, oldest first; environment= keeps those that altered it, since= a duration or time",
      query: z.object({
        environment: key.optional(),
        since: z.string().optional(),
        limit: z.coerce.number().int().min(1).max(10_000).default(1000),
      }),
      handler: async ({ query }) => {
        if (query.environment) flags.environment(query.environment);
        const events = await ctx.audit.query({
          subjectPrefix: "flag",
          since: query.since ? parseSince(query.since) : undefined,
          limit: query.limit,
        });
        return {
          events: query.environment
            ? events.filter((e) => ((e.data.environments as string[]) ?? []).includes(query.environment!))
            : events,
        };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/flags/:key/evaluate",
      permission: "read",
      tag: "flags",
      summary: "Evaluate a flag on the server for a context in an environment (what an SDK would get)",
      params: z.object({ key }),
      body: z.object({ environment: key, context: z.record(z.string(), z.unknown()).default({}) }).strict(),
      handler: async ({ params, body }) => ({
        result: flags.evaluate(body.environment, params.key, body.context),
      }),
    }),
    ...parts,
  ];
}
