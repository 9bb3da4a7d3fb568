export { allocatePort } from "./allocate-port.ts";
export {
  type HealthState,
  type HealthStatus,
  type HealthThresholds,
  type HttpProbeTarget,
  INITIAL_HEALTH,
  nextHealth,
  type ProbeResult,
  probeHttp,
} from "./health.ts";
export { HealthMonitor, type HealthMonitorOptions, type HealthTarget, type Timer } from "./health-monitor.ts";
export type { BackoffPolicy } from "./instance-files.ts";
export { type InstanceStats, instanceStats } from "./instance-stats.ts";
export { LocalRuntime, type LocalRuntimeOptions } from "./local-runtime.ts";
export { DEFAULT_BACKOFF, restartDelayMs } from "./restart-backoff.ts";
export type { InstanceSpec, InstanceState, InstanceStatus, Runtime } from "./runtime.ts";
