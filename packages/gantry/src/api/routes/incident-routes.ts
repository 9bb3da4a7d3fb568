import { z } from "zod";
import { parseDuration } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import {
  alertBody,
  alertmanagerPayload,
  fromAlertBody,
  fromAlertmanager,
  fromWebhook,
  postmortemSpec,
  severities,
  webhookBody,
} from "../../incidents/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

const idParams = z.object({ id: z.coerce.number().int().positive() });
const reasonBody = z.object({ reason: z.string().max(2000).optional() }).strict();

/** Alerts in (API, generic webhook, Alertmanager), incidents and their lifecycle out. */
export function incidentRoutes(ctx: ApiContext): RouteDef[] {
  const transition = (verb: "acknowledge" | "mitigate" | "resolve", summary: string) =>
    route({
      method: "POST",
      url: `/api/v1/incidents/:id/${verb}`,
      permission: "deploy",
      tag: "incidents",
      summary,
      params: idParams,
      body: reasonBody,
      handler: async ({ params, body, principal }) => ({
        incident: await ctx.incidents[verb](params.id, principal.name, body.reason),
      }),
    });
  return [
    route({
      method: "POST",
      url: "/api/v1/alerts",
      permission: "alert",
      tag: "incidents",
      summary: "Report an alert firing or resolved; alerts with one dedupKey are one incident",
      body: alertBody,
      status: 202,
      handler: async ({ body }) => ingestResult(await ctx.incidents.ingest(fromAlertBody(body, "api"))),
    }),
    route({
      method: "POST",
      url: "/api/v1/integrations/webhook",
      permission: "alert",
      tag: "integrations",
      summary:
        "Generic alert webhook: dedup_key, summary or title, status or event_action (trigger/resolve), severity",
      body: webhookBody,
      status: 202,
      handler: async ({ body }) => ingestResult(await ctx.incidents.ingest(fromWebhook(body))),
    }),
    route({
      method: "POST",
      url: "/api/v1/integrations/alertmanager",
      permission: "alert",
      tag: "integrations",
      summary:
        "Alertmanager webhook receiver (payload version 4; bearer token from http_config.authorization)",
      body: alertmanagerPayload,
      status: 202,
      handler: async ({ body }) => {
        const results = [];
        for (const alert of fromAlertmanager(body))
          results.push(ingestResult(await ctx.incidents.ingest(alert)));
        return { alerts: results };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/incidents",
      permission: "read",
      tag: "incidents",
      summary: "Incidents, newest first; by default those open or awaiting a postmortem",
      query: z
        .object({
          state: z.enum(["open", "unclosed", "resolved", "all"]).default("unclosed"),
          service: z.string().optional(),
          severity: z.enum(severities).optional(),
          since: z.string().optional(),
          q: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        })
        .strict(),
      handler: async ({ query }) => {
        const since = query.since === undefined ? undefined : parseDuration(query.since);
        if (query.since !== undefined && !since)
          throw new GantryError(
            "BAD_REQUEST",
            `since "${query.since}" is not a duration; write e.g. 7d or 12h`,
            {
              field: "since",
            },
          );
        return {
          incidents: await ctx.incidents.list({
            state: query.state,
            service: query.service,
            severity: query.severity,
            since: since ? new Date(Date.now() - since) : undefined,
            text: query.q,
            limit: query.limit,
          }),
        };
      },
    }),
    route({
      method: "GET",
      url: "/api/v1/incidents/:id",
      permission: "read",
      tag: "incidents",
      summary: "One incident with its alerts and timeline",
      params: idParams,
      handler: async ({ params }) => ctx.incidents.get(params.id),
    }),
    transition("acknowledge", "Acknowledge an incident (stops its escalation)"),
    transition("mitigate", "Mark an incident mitigated (the impact is over, the cause may not be)"),
    transition("resolve", "Resolve an incident (and its alerts)"),
    route({
      method: "POST",
      url: "/api/v1/incidents/:id/notes",
      permission: "deploy",
      tag: "incidents",
      summary: "Add a note to an incident's timeline",
      params: idParams,
      body: z.object({ text: z.string().trim().min(1).max(10_000) }).strict(),
      status: 201,
      handler: async ({ params, body, principal }) => ({
        note: await ctx.incidents.note(params.id, principal.name, body.text),
      }),
    }),
    route({
      method: "PUT",
      url: "/api/v1/incidents/:id/postmortem",
      permission: "deploy",
      tag: "incidents",
      summary: "Write or revise the postmortem (required to close a critical or high-severity incident)",
      params: idParams,
      body: postmortemSpec,
      handler: async ({ params, body, principal }) => ({
        incident: await ctx.incidents.writePostmortem(params.id, principal.name, body),
      }),
    }),
  ];
}

function ingestResult(r: Awaited<ReturnType<ApiContext["incidents"]["ingest"]>>) {
  return {
    incident: r.incident
      ? { id: r.incident.id, status: r.incident.status, severity: r.incident.severity }
      : null,
    alert: r.alert ? { id: r.alert.id, key: r.alert.key, status: r.alert.status } : null,
    created: r.created,
  };
}
