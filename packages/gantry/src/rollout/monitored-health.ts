import type { HealthCheckSpec } from "../config/index.ts";
import { HealthMonitor } from "../runtime/index.ts";
import type { HealthStatus, HealthWatcher } from "./ports.ts";

/**
 * HealthWatcher over the runtime's HealthMonitor: one monitor per distinct health-check
 * setting (services differ in interval and thresholds), so each instance is probed as its
 * service asks.
 */
export class MonitoredHealth implements HealthWatcher {
  readonly #monitors = new Map<string, HealthMonitor>();
  readonly #monitorOf = new Map<string, HealthMonitor>();
  readonly #listeners: ((id: string, status: HealthStatus) => void)[] = [];

  watch(id: string, port: number, check: HealthCheckSpec, initial: HealthStatus = "unknown"): void {
    const monitor = this.#monitorFor(check);
    const previous = this.#monitorOf.get(id);
    if (previous && previous !== monitor) previous.unwatch(id);
    this.#monitorOf.set(id, monitor);
    monitor.watch({ instanceId: id, host: "127.0.0.1", port, path: check.path }, initial);
  }

  forget(id: string): void {
    this.#monitorOf.get(id)?.unwatch(id);
    this.#monitorOf.delete(id);
  }

  status(id: string): HealthStatus {
    return this.#monitorOf.get(id)?.status(id) ?? "unknown";
  }

  onChange(listener: (id: string, status: HealthStatus) => void): void {
    this.#listeners.push(listener);
  }

  stop(): void {
    for (const monitor of this.#monitors.values()) monitor.stop();
  }

  #monitorFor(check: HealthCheckSpec): HealthMonitor {
    const key = JSON.stringify([
      check.interval,
      check.timeout,
      check.healthyThreshold,
      check.unhealthyThreshold,
    ]);
    let monitor = this.#monitors.get(key);
    if (!monitor) {
      monitor = new HealthMonitor({
        intervalMs: check.interval,
        timeoutMs: check.timeout,
        healthyThreshold: check.healthyThreshold,
        unhealthyThreshold: check.unhealthyThreshold,
        onChange: (id, status) => {
          for (const listener of this.#listeners) listener(id, status);
        },
      });
      monitor.start();
      this.#monitors.set(key, monitor);
    }
    return monitor;
  }
}
