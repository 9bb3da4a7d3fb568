import { z } from "zod";
import {
  envMap,
  parseDuration,
  parseOrThrow,
  serviceName,
  serviceSpec,
  strategySpec,
  strategyTypes,
  versionName,
} from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import { invalidRange } from "../../policy/index.ts";
import { statusReport, summarizeRollout } from "../../rollout/index.ts";
import { signPin } from "../../router/cohorts.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

const serviceParams = z.object({ service: serviceName });
const releaseParams = z.object({ service: serviceName, version: versionName });

/** Services, releases, deploys and rollbacks. */
export function serviceRoutes(ctx: ApiContext): RouteDef[] {
  return [
    route({
      method: "GET",
      url: "/api/v1/status",
      permission: "read",
      tag: "services",
      summary: "Every service: live version, traffic, instances, rollout under way",
      handler: async () => ({ services: await statusReport(ctx) }),
    }),
    route({
      method: "GET",
      url: "/api/v1/services",
      permission: "read",
      tag: "services",
      summary: "Declared services and their specs",
      handler: async () => ({ services: await ctx.catalog.list() }),
    }),
    route({
      method: "GET",
      url: "/api/v1/services/:service",
      permission: "read",
      tag: "services",
      summary: "One service: spec and status",
      params: serviceParams,
      handler: async ({ params }) => {
        const service = await ctx.catalog.get(params.service);
        const [status] = await statusReport(ctx, params.service);
        return { ...service, status };
      },
    }),
    route({
      method: "PUT",
      url: "/api/v1/services/:service",
      permission: "deploy",
      tag: "services",
      summary: "Declare or update a service",
      params: serviceParams,
      body: serviceSpec,
      handler: async ({ params, body, principal }) => {
        const changed = await ctx.catalog.put(params.service, body, "api");
        if (changed) {
          await ctx.audit.record({
            actor: principal.name,
            action: "service.declared",
            service: params.service,
            data: { spec: body },
          });
        }
        return { service: await ctx.catalog.get(params.service), changed };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/services/:service/releases",
      permission: "read",
      tag: "releases",
      summary: "Releases of a service",
      params: serviceParams,
      handler: async ({ params }) => {
        await ctx.catalog.get(params.service);
        return { releases: await ctx.catalog.listReleases(params.service) };
      },
    }),
    route({
      method: "PUT",
      url: "/api/v1/services/:service/releases/:version",
      permission: "deploy",
      tag: "releases",
      summary: "Upload a release (.tar.gz body); env as repeated ?env=KEY=VALUE",
      params: releaseParams,
      query: z.object({
        env: z.union([z.string(), z.array(z.string())]).optional(),
        /** What the release needs of other services: repeated SERVICE=RANGE, e.g. require=api>=2.3 */
        require: z.union([z.string(), z.array(z.string())]).optional(),
      }),
      rawBody: "application/gzip",
      status: 201,
      handler: async ({ params, query, raw, principal, reply }) => {
        const env = parseEnvPairs(query.env);
        const requires = parseRequirements(query.require);
        const result = await ctx.intake.accept({
          ...params,
          archive: raw!,
          env,
          requires,
          actor: principal.name,
        });
        reply.code(result.created ? 201 : 200);
        return result;
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/services/:service/rollouts",
      permission: "deploy",
      tag: "rollouts",
      summary: "Deploy an uploaded release with the service's strategy or another",
      params: serviceParams,
      body: z
        .object({
          version: versionName,
          /** A strategy name (the service's parameters if it uses that strategy, else defaults) or a full strategy. */
          strategy: z.union([z.enum(strategyTypes), strategySpec]).optional(),
          reason: z.string().max(2000).optional(),
          /** An admin deploys despite a lock or a freeze; needs a reason. */
          override: z.boolean().optional(),
        })
        .strict(),
      status: 202,
      handler: async ({ params, body, principal }) => {
        const rollout = await ctx.orchestrator.deploy({
          service: params.service,
          ...body,
          actor: principal.name,
          role: principal.role,
        });
        return { rollout: summarizeRollout(rollout) };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/services/:service/rollback",
      permission: "deploy",
      tag: "rollouts",
      summary: "Abort the running rollout, or return to the previous version",
      params: serviceParams,
      body: z
        .object({
          reason: z.string().max(2000).optional(),
          force: z.boolean().optional(),
          /** Only abort a running rollout (gantry abort); 409 when none runs. */
          abortOnly: z.boolean().optional(),
        })
        .strict(),
      status: 202,
      handler: async ({ params, body, principal }) => {
        const rollout = await ctx.orchestrator.rollback({
          service: params.service,
          actor: principal.name,
          reason: body.reason,
          force: body.force,
          abortOnly: body.abortOnly,
        });
        return { rollout: summarizeRollout(rollout) };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/services/:service/promote",
      permission: "deploy",
      tag: "rollouts",
      summary: "End the pause or analysis the running canary is in; the next step follows",
      params: serviceParams,
      body: z
        .object({
          reason: z.string().max(2000).optional(),
          /** Skip every analysis and pause left: straight on to all traffic. */
          full: z.boolean().optional(),
        })
        .strict(),
      status: 202,
      handler: async ({ params, body, principal }) => {
        const rollout = await ctx.orchestrator.promote({
          service: params.service,
          actor: principal.name,
          reason: body.reason,
          full: body.full,
        });
        return { rollout: summarizeRollout(rollout) };
      },
    }),
    ...(["pause", "resume"] as const).map((verb) =>
      route({
        method: "POST",
        url: `/api/v1/services/:service/${verb}`,
        permission: "deploy",
        tag: "rollouts",
        summary:
          verb === "pause"
            ? "Hold the running rollout before its next step (an analysis under way still aborts on failure)"
            : "Let a paused rollout go on with its next step",
        params: serviceParams,
        body: z.object({ reason: z.string().max(2000).optional() }).strict(),
        status: 202,
        handler: async ({ params, body, principal }) => {
          const request = { service: params.service, actor: principal.name, reason: body.reason };
          const rollout =
            verb === "pause"
              ? await ctx.orchestrator.pauseRollout(request)
              : await ctx.orchestrator.resumeRollout(request);
          return { rollout: summarizeRollout(rollout) };
        },
      }),
    ),
    route({
      method: "POST",
      url: "/api/v1/services/:service/pin",
      permission: "deploy",
      tag: "rollouts",
      summary:
        "Issue a pin ticket: requests carrying it as X-Gantry-Pin go to that version, whatever the weights or cohorts",
      params: serviceParams,
      body: z
        .object({
          version: versionName,
          /** How long the ticket works: a duration, 1h by default, at most 24h. */
          for: z.string().optional(),
          reason: z.string().max(2000).optional(),
        })
        .strict(),
      status: 201,
      handler: async ({ params, body, principal }) => {
        await ctx.catalog.get(params.service);
        await ctx.catalog.getRelease(params.service, body.version);
        const forMs = body.for === undefined ? 3_600_000 : parseDuration(body.for);
        if (!forMs || forMs > 86_400_000) {
          throw new GantryError(
            "BAD_REQUEST",
            `for "${body.for}" is not a duration of at most 24h; write e.g. 30m or 2h`,
            { field: "for" },
          );
        }
        const expires = Math.floor((Date.now() + forMs) / 1000);
        const ticket = signPin(ctx.pinKey, params.service, body.version, expires);
        const expiresAt = new Date(expires * 1000).toISOString();
        await ctx.audit.record({
          actor: principal.name,
          action: "service.pinned",
          service: params.service,
          subject: body.version,
          reason: body.reason ?? null,
          data: { version: body.version, until: expiresAt },
        });
        return { header: "X-Gantry-Pin", value: ticket, version: body.version, expiresAt };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/services/:service/rollouts",
      permission: "read",
      tag: "rollouts",
      summary: "What was released when, by whom, and how it ended",
      params: serviceParams,
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      handler: async ({ params, query }) => {
        await ctx.catalog.get(params.service);
        const rollouts = await ctx.rollouts.history(params.service, query.limit);
        const releases = new Map((await ctx.catalog.listReleases(params.service)).map((r) => [r.version, r]));
        return {
          rollouts: rollouts.map((r) => ({
            ...summarizeRollout(r),
            release: releases.get(r.toVersion)
              ? { checksum: releases.get(r.toVersion)!.checksum, env: releases.get(r.toVersion)!.env }
              : null,
          })),
        };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/rollouts/:id",
      permission: "read",
      tag: "rollouts",
      summary: "One rollout with its steps and failure",
      params: z.object({ id: z.coerce.number().int().positive() }),
      handler: async ({ params }) => {
        const rollout = await ctx.rollouts.find(params.id);
        if (!rollout) throw notFound(`no rollout ${params.id}`);
        return { rollout: { ...summarizeRollout(rollout), plan: rollout.steps, failure: rollout.failure } };
      },
    }),
  ];
}

function parseEnvPairs(value: string | string[] | undefined): Record<string, string> {
  const pairs = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) {
      throw new GantryError(
        "BAD_REQUEST",
        `env "${pair}" is not KEY=VALUE; write e.g. --env DEMO_FAIL_RATE=0.2`,
        { field: "env" },
      );
    }
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return parseOrThrow(envMap, env, "env");
}

/** "api>=2.3" → {api: ">=2.3"}: the service name, then a semver range. */
function parseRequirements(value: string | string[] | undefined): Record<string, string> {
  const items = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const requires: Record<string, string> = {};
  for (const item of items) {
    const match = item.match(/^([a-z][a-z0-9-]*)\s*=?\s*([^=].*)$/);
    const problem = match ? invalidRange(match[2]!.trim()) : `"${item}" is not SERVICE=RANGE`;
    if (!match || problem) {
      throw new GantryError("BAD_REQUEST", `require ${problem}; write e.g. --require api=">=2.3"`, {
        field: "require",
      });
    }
    requires[match[1]!] = match[2]!.trim();
  }
  return requires;
}

function notFound(message: string): GantryError {
  return new GantryError("NOT_FOUND", message);
}
