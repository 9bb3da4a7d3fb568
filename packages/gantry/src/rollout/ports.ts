import type { HealthCheckSpec } from "../config/index.ts";

export type HealthStatus = "unknown" | "healthy" | "unhealthy";

/** Health of instances as the control plane sees it, fed by periodic probes. */
export interface HealthWatcher {
  /** Starts probing an instance. `initial` seeds its status, e.g. "healthy" for one adopted after a restart. */
  watch(id: string, port: number, check: HealthCheckSpec, initial?: HealthStatus): void;
  forget(id: string): void;
  status(id: string): HealthStatus;
  onChange(listener: (id: string, status: HealthStatus) => void): void;
}

/** Thrown inside a rollout step when the release cannot take traffic; the rollout then restores. */
export class DeployFailure extends Error {
  readonly logs: Record<string, string>;
  constructor(reason: string, logs: Record<string, string> = {}) {
    super(reason);
    this.name = "DeployFailure";
    this.logs = logs;
  }
}

/**
 * The candidate was judged worse (a failed analysis, check, shadow comparison or
 * verification), as opposed to failing to start or being aborted: it ran, and may be kept
 * for debugging (`keepFailed`).
 */
export class JudgedWorse extends DeployFailure {}

export class RolloutAborted extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "RolloutAborted";
  }
}
