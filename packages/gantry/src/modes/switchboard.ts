import type { AuditLog } from "../audit/index.ts";
import { GantryError } from "../errors/index.ts";
import type { ServiceCatalog, Switches } from "../services/index.ts";

export interface SwitchboardDeps {
  catalog: ServiceCatalog;
  audit: AuditLog;
  /** Pushes the new state to the router. */
  publish: () => Promise<void>;
  now: () => Date;
}

/**
 * The switches operators flip by hand: a service's mode (read-only, maintenance, normal),
 * its circuit breaker, and its deploy lock. Each flip is audited and reaches the router at
 * once; none needs a deploy.
 */
export class Switchboard {
  readonly #d: SwitchboardDeps;

  constructor(deps: SwitchboardDeps) {
    this.#d = deps;
  }

  async setMode(input: {
    service: string;
    mode: "normal" | "read-only" | "maintenance";
    forMs?: number | undefined;
    reason?: string | undefined;
    actor: string;
  }): Promise<Switches> {
    const at = this.#d.now();
    const until = input.forMs ? new Date(at.getTime() + input.forMs).toISOString() : null;
    const mode =
      input.mode === "normal"
        ? undefined
        : { mode: input.mode, reason: input.reason ?? null, actor: input.actor, at: at.toISOString(), until };
    return this.#change(
      input.service,
      input.actor,
      "mode.changed",
      input.reason,
      { mode: input.mode, until },
      (s) => ({ ...s, mode }),
    );
  }

  async setBreaker(input: {
    service: string;
    state: "open" | "closed" | "auto";
    reason?: string | undefined;
    actor: string;
  }): Promise<Switches> {
    const breaker =
      input.state === "auto"
        ? undefined
        : {
            state: input.state,
            reason: input.reason ?? null,
            actor: input.actor,
            at: this.#d.now().toISOString(),
          };
    return this.#change(
      input.service,
      input.actor,
      "breaker.changed",
      input.reason,
      { state: input.state },
      (s) => ({ ...s, breaker }),
    );
  }

  async lock(input: { service: string; reason: string; actor: string }): Promise<Switches> {
    const lock = { reason: input.reason, actor: input.actor, at: this.#d.now().toISOString() };
    return this.#change(input.service, input.actor, "service.locked", input.reason, {}, (s) => ({
      ...s,
      lock,
    }));
  }

  async unlock(input: { service: string; reason?: string | undefined; actor: string }): Promise<Switches> {
    const state = await this.#d.catalog.state(input.service);
    if (!state.switches.lock)
      throw new GantryError("CONFLICT", `${input.service} is not locked`, { field: "service" });
    return this.#change(
      input.service,
      input.actor,
      "service.unlocked",
      input.reason,
      {},
      ({ lock: _, ...rest }) => rest,
    );
  }

  /** Clears timed modes whose time is up (the router already stopped applying them). */
  async expireModes(): Promise<void> {
    for (const service of await this.#d.catalog.list()) {
      const state = await this.#d.catalog.state(service.name);
      const mode = state.switches.mode;
      if (!mode?.until || Date.parse(mode.until) > this.#d.now().getTime()) continue;
      await this.#change(
        service.name,
        "gantry",
        "mode.expired",
        `the ${mode.mode} mode set by ${mode.actor} ended`,
        { mode: mode.mode },
        ({ mode: _, ...rest }) => rest,
      );
    }
  }

  async #change(
    service: string,
    actor: string,
    action: string,
    reason: string | undefined,
    data: Record<string, unknown>,
    update: (switches: Switches) => Switches,
  ): Promise<Switches> {
    await this.#d.catalog.get(service);
    const state = await this.#d.catalog.state(service);
    const switches = update(state.switches);
    await this.#d.catalog.saveState({ ...state, switches });
    await this.#d.audit.record({ actor, action, service, reason: reason ?? null, data });
    await this.#d.publish();
    return switches;
  }
}
