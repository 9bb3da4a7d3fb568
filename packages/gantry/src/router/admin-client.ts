import type { RouterPolicy } from "./policy.ts";

/** What the control plane may ask of a running router over its loopback admin port. */
export interface RouterAdmin {
  putPolicy(policy: RouterPolicy): Promise<void>;
  getPolicy(): Promise<RouterPolicy>;
  /** In-flight request counts by instance id (only instances with requests in flight). */
  inflight(): Promise<Record<string, number>>;
  /** Prometheus text exposition of the router's request metrics. */
  metrics(): Promise<string>;
  healthy(): Promise<boolean>;
}
