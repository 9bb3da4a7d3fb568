import type { Runtime } from "../runtime/runtime.ts";
import type { ServiceCatalog, ServiceState } from "../services/index.ts";
import { effectiveMode } from "./build-policy.ts";
import type { InstanceRecords } from "./instance-records.ts";
import type { HealthStatus, HealthWatcher } from "./ports.ts";
import type { AnalysisRecord, Rollout, RolloutRecords } from "./rollout-records.ts";

export interface InstanceReport {
  id: string;
  version: string;
  port: number;
  state: string;
  health: HealthStatus;
  pid: number | null;
  restarts: number;
}

export interface RolloutSummary {
  id: number;
  kind: Rollout["kind"];
  from: string | null;
  to: string;
  strategy: string;
  status: Rollout["status"];
  step: number;
  steps: number;
  stepDescription: string | null;
  /** Held before its next step by `gantry pause`: who, when, why; null otherwise. */
  paused: { by: string; at: string; reason: string | null } | null;
  actor: string;
  reason: string | null;
  failure: string | null;
  /** The latest canary analysis verdict with its numbers; null when there was none. */
  analysis: AnalysisRecord | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface ServiceReport {
  service: string;
  liveVersion: string | null;
  /** The mode in force: the more restrictive of the rollout's and the operator's (as the router applies it). */
  mode: ServiceState["mode"];
  traffic: ServiceState["traffic"];
  idle: ServiceState["idle"];
  instances: InstanceReport[];
  rollout: RolloutSummary | null;
  lastRollout: RolloutSummary | null;
  /** Operator switches: mode (with until), breaker held open or closed, deploy lock. */
  switches: ServiceState["switches"];
  /** The circuit breaker as the router sees it: closed, open or half-open. */
  breaker: string | null;
  /** Names of the release freezes in force now for this service. */
  frozenBy: string[];
}

export interface StatusDeps {
  catalog: ServiceCatalog;
  rollouts: RolloutRecords;
  instances: InstanceRecords;
  health: HealthWatcher;
  runtime: Runtime;
  /** Breaker state by service, from the router. */
  breakers?: () => Promise<Record<string, string>>;
  /** Names of the freezes in force now for a service. */
  frozenBy?: (service: string) => Promise<string[]>;
}

/** What `gantry status` shows: per service, the live build, traffic, instances and the rollout under way. */
export async function statusReport(deps: StatusDeps, only?: string): Promise<ServiceReport[]> {
  const services = only ? [await deps.catalog.get(only)] : await deps.catalog.list();
  const processes = new Map((await deps.runtime.list()).map((p) => [p.id, p]));
  const breakers = (await deps.breakers?.().catch(() => ({}))) ?? {};
  return Promise.all(
    services.map(async (service) => {
      const state = await deps.catalog.state(service.name);
      const [active] = await deps.rollouts.active(service.name);
      const [latest] = await deps.rollouts.history(service.name, 1);
      const instances = (await deps.instances.alive(service.name)).map((r) => {
        const p = processes.get(r.id);
        return {
          id: r.id,
          version: r.version,
          port: r.port,
          state: r.state,
          health: deps.health.status(r.id),
          pid: p?.pid ?? null,
          restarts: p?.restarts ?? 0,
        };
      });
      return {
        service: service.name,
        liveVersion: state.liveVersion,
        mode: effectiveMode(state, new Date()).mode,
        traffic: state.traffic,
        idle: state.idle,
        instances,
        rollout: active ? summarizeRollout(active) : null,
        lastRollout: latest && !active ? summarizeRollout(latest) : null,
        switches: state.switches,
        breaker: (breakers as Record<string, string>)[service.name] ?? null,
        frozenBy: (await deps.frozenBy?.(service.name)) ?? [],
      };
    }),
  );
}

export function summarizeRollout(r: Rollout): RolloutSummary {
  return {
    id: r.id,
    kind: r.kind,
    from: r.fromVersion,
    to: r.toVersion,
    strategy: r.strategy,
    status: r.status,
    step: Math.min(r.step + 1, r.steps.length),
    steps: r.steps.length,
    stepDescription: r.steps[r.step]?.description ?? null,
    paused: r.control.paused ?? null,
    actor: r.actor,
    reason: r.reason,
    failure: r.failure?.reason ?? null,
    analysis: r.analysis,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
  };
}
