export { HttpRouterAdmin, type RouterAdmin } from "./admin-client.ts";
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
