import { z } from "zod";
import { freezeSpec, parseDuration, serviceName } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import { freezeInForce } from "../../policy/index.ts";
import { summarizeRollout } from "../../rollout/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

const serviceParams = z.object({ service: serviceName });
const reason = z.string().max(2000).optional();

/** Switches (mode, breaker, lock), freezes and approvals. */
export function policyRoutes(ctx: ApiContext): RouteDef[] {
  return [
    route({
      method: "POST",
      url: "/api/v1/services/:service/mode",
      permission: "deploy",
      tag: "modes",
      summary: "Switch a service to read-only, maintenance or normal, optionally for a while",
      params: serviceParams,
      body: z
        .object({ mode: z.enum(["normal", "read-only", "maintenance"]), for: z.string().optional(), reason })
        .strict(),
      handler: async ({ params, body, principal }) => {
        const forMs = body.for === undefined ? undefined : parseDuration(body.for);
        if (body.for !== undefined && !forMs) {
          throw new GantryError("BAD_REQUEST", `for "${body.for}" is not a duration; write e.g. 30m or 2h`, {
            field: "for",
          });
        }
        const switches = await ctx.switchboard.setMode({
          service: params.service,
          mode: body.mode,
          forMs,
          reason: body.reason,
          actor: principal.name,
        });
        return { service: params.service, switches };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/services/:service/breaker",
      permission: "deploy",
      tag: "modes",
      summary: "Hold the circuit breaker open or closed by hand, or give it back (auto)",
      params: serviceParams,
      body: z.object({ state: z.enum(["open", "closed", "auto"]), reason }).strict(),
      handler: async ({ params, body, principal }) => {
        const switches = await ctx.switchboard.setBreaker({
          service: params.service,
          state: body.state,
          reason: body.reason,
          actor: principal.name,
        });
        return { service: params.service, switches };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/services/:service/lock",
      permission: "deploy",
      tag: "policy",
      summary: "Lock a service against deploys (rollbacks stay possible)",
      params: serviceParams,
      body: z.object({ reason: z.string().min(1).max(2000) }).strict(),
      handler: async ({ params, body, principal }) => ({
        service: params.service,
        switches: await ctx.switchboard.lock({
          service: params.service,
          reason: body.reason,
          actor: principal.name,
        }),
      }),
    }),
    route({
      method: "DELETE",
      url: "/api/v1/services/:service/lock",
      permission: "deploy",
      tag: "policy",
      summary: "Unlock a service",
      params: serviceParams,
      handler: async ({ params, principal }) => ({
        service: params.service,
        switches: await ctx.switchboard.unlock({ service: params.service, actor: principal.name }),
      }),
    }),
    route({
      method: "GET",
      url: "/api/v1/freezes",
      permission: "read",
      tag: "policy",
      summary: "Release freezes, with whether each is in force now",
      handler: async () => {
        const now = new Date();
        return {
          freezes: (await ctx.freezes.list()).map((f) => ({ ...f, inForce: freezeInForce(f.spec, now) })),
        };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/freezes",
      permission: "admin",
      tag: "policy",
      summary: "Create a release freeze (weekly, daily or once)",
      body: freezeSpec,
      status: 201,
      handler: async ({ body, principal }) => {
        const freeze = await ctx.freezes.create(body, "api", principal.name);
        await ctx.audit.record({
          actor: principal.name,
          action: "freeze.created",
          subject: `freeze/${freeze.id}`,
          reason: body.reason ?? null,
          data: { spec: body },
        });
        return { freeze };
      },
    }),
    route({
      method: "DELETE",
      url: "/api/v1/freezes/:id",
      permission: "admin",
      tag: "policy",
      summary: "Delete a release freeze (by id or name)",
      params: z.object({ id: z.string().min(1) }),
      handler: async ({ params, principal }) => {
        const freeze = await ctx.freezes.delete(params.id);
        await ctx.audit.record({
          actor: principal.name,
          action: "freeze.deleted",
          subject: `freeze/${freeze.id}`,
          data: { name: freeze.spec.name },
        });
        return { deleted: freeze.id };
      },
    }),
    route({
      method: "POST",
      url: "/api/v1/rollouts/:id/approve",
      permission: "deploy",
      tag: "rollouts",
      summary: "Approve a deploy that waits for a second person",
      params: z.object({ id: z.coerce.number().int().positive() }),
      body: z.object({ reason }).strict(),
      handler: async ({ params, body, principal }) => {
        const rollout = await ctx.orchestrator.approve({
          rolloutId: params.id,
          actor: principal.name,
          reason: body.reason,
        });
        return { rollout: summarizeRollout(rollout) };
      },
    }),
  ];
}
