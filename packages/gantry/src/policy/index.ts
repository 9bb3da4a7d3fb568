export { type Freeze, FreezeStore } from "./freeze-store.ts";
export { activeFreezes, freezeInForce, localClock } from "./freeze-windows.ts";
export {
  asSemver,
  brokenDependants,
  type Dependant,
  type DeployGateInput,
  deployRefusals,
  invalidRange,
  type Refusal,
  unmetRequirement,
} from "./release-gate.ts";
export { type DeployCheck, ReleasePolicy, type ReleasePolicyDeps } from "./release-policy.ts";
