import type { ServiceSpec } from "../config/index.ts";
import type { BreakerSettings } from "../router/circuit-breaker.ts";
import {
  type Backend,
  defaultMaintenancePage,
  type RouterPolicy,
  type ServiceMode,
  type ServiceRoute,
} from "../router/policy.ts";
import type { Switches } from "../services/index.ts";
import type { Traffic, TrafficShare } from "./plan.ts";

export interface ServiceView {
  name: string;
  spec: ServiceSpec;
  traffic: Traffic;
  /** The mode the rollout engine set (e.g. maintenance during a stop-and-go deploy). */
  mode: ServiceMode;
  switches?: Switches;
}

export interface InstanceView {
  id: string;
  service: string;
  version: string;
  port: number;
  /** Only instances that passed their health check once, are healthy now and not draining take traffic. */
  serving: boolean;
}

/** The router policy for the current state of every service: pure, so it is tested without a router. */
export function buildRouterPolicy(
  revision: number,
  services: ServiceView[],
  instances: InstanceView[],
  now: Date = new Date(),
  pinKey: string | null = null,
): RouterPolicy {
  return {
    revision,
    services: services.map((s) =>
      routeFor(
        s,
        instances.filter((i) => i.service === s.name && i.serving),
        now,
        pinKey,
      ),
    ),
  };
}

const severity: Record<ServiceMode, number> = { normal: 0, "read-only": 1, maintenance: 2 };

/**
 * The mode in force: the more restrictive of the rollout's and the operator's. An operator's
 * timed mode carries its end, so the router ends it even with the control plane away.
 */
export function effectiveMode(
  service: Pick<ServiceView, "mode" | "switches">,
  now: Date,
): { mode: ServiceMode; until: string | null } {
  const operator = service.switches?.mode;
  const live =
    operator && (!operator.until || Date.parse(operator.until) > now.getTime()) ? operator : undefined;
  if (live && severity[live.mode] > severity[service.mode]) return { mode: live.mode, until: live.until };
  return { mode: service.mode, until: null };
}

function breakerFor(service: ServiceView): BreakerSettings {
  const b = service.spec.breaker;
  return {
    forced: service.switches?.breaker?.state ?? null,
    errorRate: b.errorRate,
    minRequests: b.minRequests,
    windowSeconds: b.window / 1000,
    consecutiveFailures: b.consecutiveFailures,
    cooldownSeconds: b.cooldown / 1000,
    halfOpenRequests: b.halfOpenRequests,
  };
}

function fallbackFor(service: ServiceView): ServiceRoute["fallback"] {
  if (!service.spec.fallback) return null;
  const url = new URL(service.spec.fallback.url);
  return {
    id: `${service.name}-fallback`,
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port || 80),
  };
}

function routeFor(
  service: ServiceView,
  serving: InstanceView[],
  now: Date,
  pinKey: string | null,
): ServiceRoute {
  const { spec } = service;
  const { mode, until } = effectiveMode(service, now);
  return {
    service: service.name,
    hosts: spec.route.hosts,
    pathPrefix: spec.route.pathPrefix,
    isDefault: spec.route.default,
    mode,
    modeUntil: until,
    readOnly: {
      allowPaths: spec.readOnly.allowPaths,
      retryAfterSeconds: Math.ceil(spec.readOnly.retryAfter / 1000),
    },
    fallback: fallbackFor(service),
    breaker: breakerFor(service),
    maintenance: {
      retryAfterSeconds: Math.max(1, Math.ceil(spec.maintenance.retryAfter / 1000)),
      contentType: spec.maintenance.contentType,
      body: spec.maintenance.body ?? defaultMaintenancePage.body,
    },
    backends: backendsFor(service.traffic, serving),
    cohorts:
      typeof service.traffic === "object" && "cohorts" in service.traffic ? service.traffic.cohorts : null,
    shadow:
      typeof service.traffic === "object" && "shadow" in service.traffic ? service.traffic.shadow : null,
    pinKey,
  };
}

/**
 * Each version's serving instances with its share. Versions with serving instances but no
 * share are listed with weight 0: they take no traffic, but a pinned request may reach them
 * (a canary before its first step, a blue-green colour before the switch).
 */
function backendsFor(traffic: Traffic, serving: InstanceView[]): Backend[] {
  const upstreams = (version: string) =>
    serving.filter((i) => i.version === version).map((i) => ({ id: i.id, host: "127.0.0.1", port: i.port }));
  const versions = [...new Set(serving.map((i) => i.version))];
  const shares: TrafficShare[] =
    traffic === "by-instances"
      ? versions.map((version) => ({ version, weight: upstreams(version).length }))
      : "cohorts" in traffic
        ? // Weights only matter when a cohort's version has no serving instance: then stable.
          [
            { version: traffic.cohorts.stable, weight: 100 },
            { version: traffic.cohorts.candidate, weight: 0 },
          ]
        : "shadow" in traffic
          ? [{ version: traffic.primary, weight: 100 }]
          : traffic.filter((t) => t.weight > 0);
  for (const version of versions)
    if (!shares.some((t) => t.version === version)) shares.push({ version, weight: 0 });
  return shares
    .map((share) => ({ version: share.version, weight: share.weight, instances: upstreams(share.version) }))
    .filter((b) => b.instances.length > 0);
}
