import { request } from "node:http";

/**
 * Health checking, split the usual way: `nextHealth` is the pure hysteresis (a status
 * changes only after N probes in a row agree, so one slow response does not pull an
 * instance out of rotation), `probeHttp` is the one I/O step, HealthMonitor the loop.
 */
export type HealthStatus = "unknown" | "healthy" | "unhealthy";

export interface HealthState {
  status: HealthStatus;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

export interface HealthThresholds {
  /** Successes in a row that make an instance healthy. */
  healthyThreshold: number;
  /** Failures in a row that make an instance unhealthy. */
  unhealthyThreshold: number;
}

export interface ProbeResult {
  ok: boolean;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Why the probe failed without a response: refused, reset, timed out. */
  error?: string;
  /** Time until the response headers (or the failure), in milliseconds. */
  ms: number;
}

export const INITIAL_HEALTH: HealthState = {
  status: "unknown",
  consecutiveSuccesses: 0,
  consecutiveFailures: 0,
};

export function nextHealth(
  state: HealthState,
  probe: Pick<ProbeResult, "ok">,
  thresholds: HealthThresholds,
): HealthState {
  if (probe.ok) {
    const consecutiveSuccesses = state.consecutiveSuccesses + 1;
    const healthy = consecutiveSuccesses >= thresholds.healthyThreshold;
    return { status: healthy ? "healthy" : state.status, consecutiveSuccesses, consecutiveFailures: 0 };
  }
  const consecutiveFailures = state.consecutiveFailures + 1;
  const unhealthy = consecutiveFailures >= thresholds.unhealthyThreshold;
  return { status: unhealthy ? "unhealthy" : state.status, consecutiveSuccesses: 0, consecutiveFailures };
}

export interface HttpProbeTarget {
  host?: string;
  port: number;
  path?: string;
  /** Hard limit on connect + response headers. */
  timeoutMs: number;
}

/**
 * GETs the path; 2xx and 3xx are healthy. Never throws and never outlives timeoutMs: the
 * body is not awaited (a streaming endpoint would hang the probe) and no connection is
 * kept alive (a pooled socket would hide an instance that stopped accepting).
 */
export function probeHttp(target: HttpProbeTarget): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const req = request({
      host: target.host ?? "127.0.0.1",
      port: target.port,
      path: target.path ?? "/",
      method: "GET",
      agent: false,
      headers: { "user-agent": "gantry-health/1", connection: "close" },
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`timed out after ${target.timeoutMs} ms`)),
      target.timeoutMs,
    );
    req.once("response", (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      res.destroy();
      resolve({ ok: status >= 200 && status < 400, status, ms: elapsed() });
    });
    req.once("error", (error) => {
      clearTimeout(timer);
      // Connection errors to a name with several addresses arrive as an AggregateError without a message.
      const message = error.message || (error as NodeJS.ErrnoException).code || String(error);
      resolve({ ok: false, error: message, ms: elapsed() });
    });
    req.end();
  });
}
