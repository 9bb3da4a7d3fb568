import type { ApiContext } from "./context.ts";
import type { RouteDef } from "./route.ts";
import { adminRoutes } from "./routes/admin-routes.ts";
import { experimentRoutes } from "./routes/experiment-routes.ts";
import { flagBisectRoutes } from "./routes/flag-bisect-routes.ts";
import { flagRoutes } from "./routes/flag-routes.ts";
import { flagSdkRoutes } from "./routes/flag-sdk-routes.ts";
import { flagSetRoutes } from "./routes/flag-set-routes.ts";
import { incidentRoutes } from "./routes/incident-routes.ts";
import { ofrepRoutes } from "./routes/ofrep-routes.ts";
import { oncallDeclarationRoutes } from "./routes/oncall-declaration-routes.ts";
import { oncallRoutes } from "./routes/oncall-routes.ts";
import { policyRoutes } from "./routes/policy-routes.ts";
import { serviceRoutes } from "./routes/service-routes.ts";
import { sloRoutes } from "./routes/slo-routes.ts";

export type { ApiContext } from "./context.ts";
export { type ApiOptions, createApi } from "./create-api.ts";
export { openApiDocument } from "./openapi.ts";
export type { RouteDef } from "./route.ts";

/** Every route of the API. */
export function apiRoutes(ctx: ApiContext): RouteDef[] {
  return [
    ...serviceRoutes(ctx),
    ...policyRoutes(ctx),
    ...experimentRoutes(ctx),
    ...flagRoutes(ctx),
    ...flagSetRoutes(ctx),
    ...flagBisectRoutes(ctx),
    ...flagSdkRoutes(ctx),
    ...ofrepRoutes(ctx),
    ...sloRoutes(ctx),
    ...incidentRoutes(ctx),
    ...oncallRoutes(ctx),
    ...oncallDeclarationRoutes(ctx),
    ...adminRoutes(ctx),
  ];
}
