/**
 * The runtime feature: running instances and knowing whether they are healthy.
 *
 * - LocalRuntime (a Runtime) runs each instance under a detached shim process, so
 *   instances outlive the control plane; a new LocalRuntime on the same data dir adopts
 *   them. Run `gantry up` under systemd with KillMode=process (as containerd does),
 *   otherwise stopping the service kills every shim in its cgroup too.
 * - allocatePort picks a free port for an instance before start.
 * - nextHealth / probeHttp / HealthMonitor gate readiness and take instances out of rotation.
 * - instanceStats samples CPU and memory of an instance's process group.
 */
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
