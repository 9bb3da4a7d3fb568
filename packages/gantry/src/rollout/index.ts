export { buildRouterPolicy } from "./build-policy.ts";
export { Converger, type ConvergerDeps } from "./converger.ts";
export { syncHealthToTraffic } from "./health-sync.ts";
export { type InstanceRecord, InstanceRecords, type InstanceRecordState } from "./instance-records.ts";
export { type DeployRequest, type OrchestratorDeps, RolloutOrchestrator } from "./orchestrator.ts";
export { planRollout, type Step, type Target } from "./plan.ts";
export { DeployFailure, type HealthStatus, type HealthWatcher } from "./ports.ts";
export { finishedStatuses, type Rollout, type RolloutFailure, RolloutRecords, type RolloutStatus } from "./rollout-records.ts";
export { TrafficController } from "./traffic-controller.ts";
