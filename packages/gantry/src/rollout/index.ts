export { adoptInstances } from "./adopt.ts";
export { buildRouterPolicy } from "./build-policy.ts";
export { Converger, type ConvergerDeps } from "./converger.ts";
export { syncHealthToTraffic } from "./health-sync.ts";
export { type InstanceRecord, type InstanceRecordState, InstanceRecords } from "./instance-records.ts";
export { MonitoredHealth } from "./monitored-health.ts";
export {
  type DeployRequest,
  type OrchestratorDeps,
  type RollbackRequest,
  RolloutOrchestrator,
} from "./orchestrator.ts";
export { ensurePinKey } from "./pin-key.ts";
export { planRollout, type Step, type Target } from "./plan.ts";
export { DeployFailure, type HealthStatus, type HealthWatcher } from "./ports.ts";
export {
  finishedStatuses,
  type Rollout,
  type RolloutFailure,
  RolloutRecords,
  type RolloutStatus,
} from "./rollout-records.ts";
export {
  type InstanceReport,
  type RolloutSummary,
  type ServiceReport,
  type StatusDeps,
  statusReport,
  summarizeRollout,
} from "./status-report.ts";
export { TrafficController } from "./traffic-controller.ts";
