import {
  type HealthState,
  type HealthStatus,
  type HealthThresholds,
  type HttpProbeTarget,
  INITIAL_HEALTH,
  nextHealth,
  type ProbeResult,
  probeHttp,
} from "./health.ts";

export interface HealthTarget {
  instanceId: string;
  host?: string;
  port: number;
  /** Path of the health endpoint, e.g. "/healthz". */
  path: string;
}

export interface Timer {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface HealthMonitorOptions extends HealthThresholds {
  intervalMs: number;
  timeoutMs: number;
  /** Called when an instance's status changes (never for the initial "unknown"). */
  onChange: (instanceId: string, status: HealthStatus, probe: ProbeResult) => void;
  /** How to probe; defaults to probeHttp. */
  probe?: (target: HttpProbeTarget) => Promise<ProbeResult>;
  /** Schedules rounds; defaults to the global timers. */
  timer?: Timer;
}

interface Watched {
  target: HealthTarget;
  health: HealthState;
  lastProbe: ProbeResult | null;
}

/**
 * Probes every watched instance each intervalMs and reports status changes. Rounds never
 * overlap: the next one is scheduled when the previous finished, and every probe is
 * bounded by timeoutMs, so a hanging instance delays nothing by more than that.
 */
export class HealthMonitor {
  readonly #options: HealthMonitorOptions;
  readonly #probe: (target: HttpProbeTarget) => Promise<ProbeResult>;
  readonly #timer: Timer;
  readonly #watched = new Map<string, Watched>();
  readonly #waiters = new Set<() => void>();
  #handle: unknown = null;
  #running = false;

  constructor(options: HealthMonitorOptions) {
    this.#options = options;
    this.#probe = options.probe ?? probeHttp;
    this.#timer = options.timer ?? { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  }

  /**
   * Starts watching an instance, from "unknown" unless told otherwise: an instance adopted
   * after a control-plane restart can start "healthy" and stay in rotation until probes
   * say otherwise. Watching it again with the same target changes nothing; with a new
   * target it starts over.
   */
  watch(target: HealthTarget, initial: HealthStatus = "unknown"): void {
    const current = this.#watched.get(target.instanceId);
    if (current && sameTarget(current.target, target)) return;
    const health = { ...INITIAL_HEALTH, status: initial };
    this.#watched.set(target.instanceId, { target, health, lastProbe: null });
  }

  unwatch(instanceId: string): void {
    this.#watched.delete(instanceId);
  }

  status(instanceId: string): HealthStatus | undefined {
    return this.#watched.get(instanceId)?.health.status;
  }

  lastProbe(instanceId: string): ProbeResult | null {
    return this.#watched.get(instanceId)?.lastProbe ?? null;
  }

  /** One round: probes every watched instance in parallel and applies the results. */
  async probeAll(): Promise<void> {
    await Promise.all([...this.#watched.values()].map((watched) => this.#probeOne(watched)));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  stop(): void {
    this.#running = false;
    if (this.#handle !== null) this.#timer.clearTimeout(this.#handle);
    this.#handle = null;
  }

  /**
   * Resolves true once the instance has `status`, false after timeoutMs: how a rollout
   * gates on readiness. Needs the monitor to be running (or probeAll to be called).
   */
  waitFor(instanceId: string, status: HealthStatus, timeoutMs: number): Promise<boolean> {
    if (this.status(instanceId) === status) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        this.#waiters.delete(check);
        this.#timer.clearTimeout(handle);
        resolve(result);
      };
      const check = () => {
        if (this.status(instanceId) === status) finish(true);
      };
      const handle = this.#timer.setTimeout(() => finish(false), timeoutMs);
      this.#waiters.add(check);
    });
  }

  #schedule(delayMs: number): void {
    this.#handle = this.#timer.setTimeout(async () => {
      await this.probeAll();
      if (this.#running) this.#schedule(this.#options.intervalMs);
    }, delayMs);
  }

  async #probeOne(watched: Watched): Promise<void> {
    const { host, port, path } = watched.target;
    const result = await this.#probe({ host, port, path, timeoutMs: this.#options.timeoutMs }).catch(
      (error: unknown): ProbeResult => ({ ok: false, error: String(error), ms: 0 }),
    );
    // Unwatched or re-targeted while the probe was in flight: the result is stale.
    if (this.#watched.get(watched.target.instanceId) !== watched) return;
    const before = watched.health.status;
    watched.health = nextHealth(watched.health, result, this.#options);
    watched.lastProbe = result;
    if (watched.health.status === before) return;
    this.#options.onChange(watched.target.instanceId, watched.health.status, result);
    for (const waiter of [...this.#waiters]) waiter();
  }
}

function sameTarget(a: HealthTarget, b: HealthTarget): boolean {
  return a.host === b.host && a.port === b.port && a.path === b.path;
}
