export { HttpRouterAdmin, type RouterAdmin } from "./admin-client.ts";
export type { BreakerSettings, BreakerState } from "./circuit-breaker.ts";
export {
  type Backend,
  defaultMaintenancePage,
  emptyPolicy,
  type MaintenancePage,
  type RouterPolicy,
  type ServiceMode,
  type ServiceRoute,
  type Upstream,
} from "./policy.ts";
export { routerPolicySchema } from "./policy-schema.ts";
export { type RouterFiles, routerFiles } from "./router-files.ts";
export {
  findRouter,
  type RunningRouter,
  type SpawnRouterOptions,
  spawnRouter,
  waitForRouter,
} from "./router-spawn.ts";
