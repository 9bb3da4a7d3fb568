import { Gauge, Registry } from "prom-client";
import type { ExperimentStore } from "../experiments/index.ts";
import type { HealthWatcher, InstanceRecords } from "../rollout/index.ts";
import type { ServiceCatalog } from "../services/index.ts";

export interface MetricsDeps {
  catalog: ServiceCatalog;
  instances: InstanceRecords;
  health: HealthWatcher;
  experiments?: ExperimentStore;
  /** The router's own exposition (requests and latency by service and version). */
  routerMetrics: () => Promise<string>;
}

/** /metrics: the control plane's gauges, computed at scrape time, followed by the router's series. */
export function controlPlaneMetrics(deps: MetricsDeps): () => Promise<string> {
  const registry = new Registry();
  new Gauge({
    name: "gantry_service_live_version_info",
    help: "1 for the version that serves a service when no rollout runs",
    labelNames: ["service", "version"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const service of await deps.catalog.list()) {
        const state = await deps.catalog.state(service.name);
        if (state.liveVersion) this.set({ service: service.name, version: state.liveVersion }, 1);
      }
    },
  });
  new Gauge({
    name: "gantry_instances",
    help: "Instances by service, version, state and health",
    labelNames: ["service", "version", "state", "health"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await deps.instances.alive()) {
        this.inc({
          service: r.service,
          version: r.version,
          state: r.state,
          health: deps.health.status(r.id),
        });
      }
    },
  });
  new Gauge({
    name: "gantry_experiment_mismatch_ratio",
    help: "Share of judged runs of a Scientist experiment whose candidates mismatched (all time)",
    labelNames: ["experiment"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const e of (await deps.experiments?.list()) ?? [])
        this.set({ experiment: e.name }, e.mismatchRate);
    },
  });
  new Gauge({
    name: "gantry_experiment_runs",
    help: "Runs of a Scientist experiment by outcome (all time)",
    labelNames: ["experiment", "outcome"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const e of (await deps.experiments?.list()) ?? []) {
        for (const outcome of ["matched", "mismatched", "ignored"] as const)
          this.set({ experiment: e.name, outcome }, e.counts[outcome]);
      }
    },
  });
  return async () => {
    const own = await registry.metrics();
    const router = await deps.routerMetrics().catch(() => "# router metrics unavailable\n");
    return `${own}\n${router}`;
  };
}
