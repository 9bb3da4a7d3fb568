import type { ServiceSpec } from "../config/index.ts";
import {
  type Backend,
  defaultMaintenancePage,
  type RouterPolicy,
  type ServiceRoute,
} from "../router/policy.ts";
import type { TrafficShare } from "./plan.ts";

export interface ServiceView {
  name: string;
  spec: ServiceSpec;
  traffic: TrafficShare[] | "by-instances";
  mode: "normal" | "maintenance";
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
): RouterPolicy {
  return {
    revision,
    services: services.map((s) =>
      routeFor(
        s,
        instances.filter((i) => i.service === s.name && i.serving),
      ),
    ),
  };
}

function routeFor(service: ServiceView, serving: InstanceView[]): ServiceRoute {
  const { spec } = service;
  return {
    service: service.name,
    hosts: spec.route.hosts,
    pathPrefix: spec.route.pathPrefix,
    isDefault: spec.route.default,
    mode: service.mode,
    maintenance: {
      retryAfterSeconds: Math.max(1, Math.ceil(spec.maintenance.retryAfter / 1000)),
      contentType: spec.maintenance.contentType,
      body: spec.maintenance.body ?? defaultMaintenancePage.body,
    },
    backends: backendsFor(service.traffic, serving),
  };
}

function backendsFor(traffic: TrafficShare[] | "by-instances", serving: InstanceView[]): Backend[] {
  const upstreams = (version: string) =>
    serving.filter((i) => i.version === version).map((i) => ({ id: i.id, host: "127.0.0.1", port: i.port }));
  const shares: TrafficShare[] =
    traffic === "by-instances"
      ? [...new Set(serving.map((i) => i.version))].map((version) => ({
          version,
          weight: upstreams(version).length,
        }))
      : traffic;
  return shares
    .map((share) => ({ version: share.version, weight: share.weight, instances: upstreams(share.version) }))
    .filter((b) => b.weight > 0 && b.instances.length > 0);
}
