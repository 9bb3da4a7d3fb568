import type { Logger } from "pino";
import { GantryError } from "../errors/index.ts";
import type { RouterAdmin } from "../router/admin-client.ts";
import type { RouterPolicy } from "../router/policy.ts";
import type { ServiceCatalog } from "../services/index.ts";
import { buildRouterPolicy } from "./build-policy.ts";
import type { InstanceRecords } from "./instance-records.ts";
import type { HealthWatcher } from "./ports.ts";

/**
 * Turns the stored state of every service into a router policy and pushes it. Pushes are
 * serialised so that the router never sees an older policy after a newer one.
 */
export class TrafficController {
  readonly #deps: TrafficControllerDeps;
  #revision = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #last: RouterPolicy | undefined;

  constructor(deps: TrafficControllerDeps) {
    this.#deps = deps;
  }

  /** Continues the router's revision numbering after a restart of the control plane. */
  async attach(): Promise<void> {
    const current = await this.#deps.router.getPolicy();
    this.#revision = Math.max(this.#revision, current.revision);
  }

  get lastPolicy(): RouterPolicy | undefined {
    return this.#last;
  }

  /** Resolves once a policy built from the state as it is now (or later) is live in the router. */
  publish(): Promise<void> {
    const next = this.#chain.then(() => this.#pushWithRetry());
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #pushWithRetry(): Promise<void> {
    const policy = await this.build();
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await this.#deps.router.putPolicy(policy);
        this.#last = policy;
        return;
      } catch (error) {
        lastError = error;
        await new Promise((r) => setTimeout(r, 100 + attempt * 50));
      }
    }
    this.#deps.log.error({ err: lastError }, "router did not accept the policy");
    throw new GantryError(
      "UNAVAILABLE",
      `the router did not accept the routing policy: ${(lastError as Error)?.message}`,
    );
  }

  async build(): Promise<RouterPolicy> {
    const { catalog, instances, health } = this.#deps;
    const services = await catalog.list();
    const views = await Promise.all(
      services.map(async (s) => {
        const state = await catalog.state(s.name);
        return {
          name: s.name,
          spec: s.spec,
          traffic: state.traffic,
          mode: state.mode,
          switches: state.switches,
        };
      }),
    );
    const records = await instances.alive();
    const serving = records.map((r) => ({
      id: r.id,
      service: r.service,
      version: r.version,
      port: r.port,
      serving: r.state === "ready" && health.status(r.id) === "healthy",
    }));
    this.#revision += 1;
    return buildRouterPolicy(
      this.#revision,
      views,
      serving,
      new Date(),
      this.#deps.pinKey?.toString("base64"),
    );
  }
}

export interface TrafficControllerDeps {
  catalog: ServiceCatalog;
  instances: InstanceRecords;
  health: HealthWatcher;
  router: RouterAdmin;
  log: Logger;
  /** Signs pin tickets; the router honours X-Gantry-Pin only with it. */
  pinKey?: Buffer;
}
