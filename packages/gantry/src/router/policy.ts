/**
 * The routing policy: everything the router needs to answer a request, pushed by the
 * control plane and kept by the router (in memory and on disk) so that it keeps serving
 * on the last known policy when the control plane is away.
 */
export interface RouterPolicy {
  /** Increases with every change; the router ignores a policy older than the one it has. */
  revision: number;
  services: ServiceRoute[];
}

import type { BreakerSettings } from "./circuit-breaker.ts";
import type { RouteCohorts } from "./cohorts.ts";
import type { ShadowSettings } from "./shadow.ts";

/** normal · maintenance: every request gets the maintenance page · read-only: writes get 503, reads flow. */
export type ServiceMode = "normal" | "maintenance" | "read-only";

export interface ServiceRoute {
  service: string;
  /** Host header values (lower case, without port) this route answers; empty means any host. */
  hosts: string[];
  /** Path prefix this route answers, "/" for all paths. The longest matching prefix wins. */
  pathPrefix: string;
  /** Answers requests that no other route matches. */
  isDefault: boolean;
  /** maintenance: every request gets the maintenance page (503 + Retry-After). */
  mode: ServiceMode;
  maintenance: MaintenancePage;
  /** Versions that take traffic, each with its share. Weights are relative; 0 takes none (but a pinned request). */
  backends: Backend[];
  /** The mode ends (back to normal) at this ISO time, even if no new policy arrives. */
  modeUntil?: string | null;
  readOnly?: ReadOnlySettings;
  /** Where traffic goes when no instance can serve or the breaker is open. */
  fallback?: Upstream | null;
  breaker?: BreakerSettings;
  /** A phased rollout: which users get the candidate (instead of weights). */
  cohorts?: RouteCohorts | null;
  /** Shadow traffic: a share of requests copied to a candidate, compared, never answered from. */
  shadow?: ShadowSettings | null;
  /** Key (base64) of the pin tickets the router honours (X-Gantry-Pin); none: pins are ignored. */
  pinKey?: string | null;
}

export interface ReadOnlySettings {
  /** Path prefixes that stay writable in read-only mode (e.g. /login). */
  allowPaths: string[];
  retryAfterSeconds: number;
}

export interface MaintenancePage {
  retryAfterSeconds: number;
  contentType: string;
  body: string;
}

export interface Backend {
  version: string;
  weight: number;
  instances: Upstream[];
}

export interface Upstream {
  /** Stable instance id, e.g. "demo-v2-1"; the router counts in-flight requests by it. */
  id: string;
  host: string;
  port: number;
}

export const defaultMaintenancePage: MaintenancePage = {
  retryAfterSeconds: 5,
  contentType: "text/html; charset=utf-8",
  body: "<!doctype html><title>Down for maintenance</title><h1>Down for maintenance</h1><p>We are deploying a new version. Please try again in a few seconds.</p>\n",
};

export const emptyPolicy: RouterPolicy = { revision: 0, services: [] };
