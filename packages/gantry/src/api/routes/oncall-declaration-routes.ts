import { z } from "zod";
import {
  type OncallKind,
  oncallCollections,
  oncallEntrySpecs,
  oncallKinds,
  oncallName,
} from "../../config/index.ts";
import type { ApiContext } from "../context.ts";
import { type RouteDef, route } from "../route.ts";

const nameParams = z.object({ name: oncallName });
const reasonQuery = z.object({ reason: z.string().max(1000).optional() }).strict();

/**
 * People, schedules, escalation policies and routes: list, show, and (admin) create, replace or
 * delete those made through the API. gantry.yaml's are shown and refused for change.
 */
export function oncallDeclarationRoutes(ctx: ApiContext): RouteDef[] {
  return oncallKinds.flatMap((kind) => kindRoutes(ctx, kind));
}

function kindRoutes(ctx: ApiContext, kind: OncallKind): RouteDef[] {
  const collection = oncallCollections[kind];
  const base = `/api/v1/oncall/${collection}`;
  const a = kind === "person" ? "a person" : kind === "policy" ? "an escalation policy" : `a ${kind}`;
  const routes: RouteDef[] = [
    route({
      method: "GET",
      url: base,
      permission: "read",
      tag: "oncall",
      summary: `Every ${kind === "policy" ? "escalation policy" : kind}, from gantry.yaml (source config) and the API (source api)${kind === "route" ? ", in the order they are tried" : ""}`,
      handler: async () => ({ [collection]: ctx.oncall.declarations(kind) }),
    }),
    route({
      method: "PUT",
      url: `${base}/:name`,
      permission: "admin",
      tag: "oncall",
      summary: `Create or replace ${a} made through the API (the body is gantry.yaml's oncall.${collection}${kind === "route" ? "[]" : ".NAME"}); names in gantry.yaml are refused`,
      params: nameParams,
      query: reasonQuery,
      body: oncallEntrySpecs[kind],
      handler: async ({ params, query, body, principal }) => {
        const { declaration, created } = await ctx.oncall.put(
          kind,
          params.name,
          body as never,
          principal.name,
          query.reason,
        );
        return { [kind]: declaration, created };
      },
    }),
    route({
      method: "DELETE",
      url: `${base}/:name`,
      permission: "admin",
      tag: "oncall",
      summary: `Delete ${a} made through the API; refused while anything names it${kind === "route" ? "" : " (the error lists what)"}`,
      params: nameParams,
      query: reasonQuery,
      handler: async ({ params, query, principal }) => {
        await ctx.oncall.delete(kind, params.name, principal.name, query.reason);
        return { deleted: params.name };
      },
    }),
  ];
  // A schedule's GET shows its shifts too (oncall-routes.ts).
  if (kind !== "schedule")
    routes.splice(
      1,
      0,
      route({
        method: "GET",
        url: `${base}/:name`,
        permission: "read",
        tag: "oncall",
        summary: `One ${kind === "policy" ? "escalation policy" : kind}: its declaration, source, and what names it`,
        params: nameParams,
        handler: async ({ params }) => ({
          [kind]: ctx.oncall.declaration(kind, params.name),
          referencedBy: await ctx.oncall.referrers(kind, params.name),
        }),
      }),
    );
  return routes;
}
