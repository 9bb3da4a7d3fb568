import type { AuditLog } from "../audit/index.ts";
import type { Role } from "../auth/index.ts";
import { GantryError } from "../errors/index.ts";
import type { ServiceCatalog } from "../services/index.ts";
import type { FreezeStore } from "./freeze-store.ts";
import { activeFreezes } from "./freeze-windows.ts";
import { brokenDependants, deployRefusals } from "./release-gate.ts";

export interface ReleasePolicyDeps {
  catalog: ServiceCatalog;
  freezes: FreezeStore;
  audit: AuditLog;
  now: () => Date;
}

export interface DeployCheck {
  service: string;
  version: string;
  actor: string;
  role: Role;
  override?: boolean | undefined;
  reason?: string | undefined;
}

/**
 * The rules a release must pass before it starts: locks, freeze windows and dependencies.
 * An admin may override a lock or a freeze with a reason, and that is audited; a broken
 * dependency cannot be overridden. Rollbacks are never blocked by locks or freezes.
 */
export class ReleasePolicy {
  readonly #d: ReleasePolicyDeps;

  constructor(deps: ReleasePolicyDeps) {
    this.#d = deps;
  }

  async checkDeploy(check: DeployCheck): Promise<void> {
    const { catalog } = this.#d;
    const release = await catalog.getRelease(check.service, check.version);
    const state = await catalog.state(check.service);
    const refusals = deployRefusals({
      service: check.service,
      version: check.version,
      lock: state.switches.lock,
      freezes: activeFreezes(await this.#d.freezes.list(), check.service, this.#d.now()),
      requires: release.requires,
      live: await this.#liveVersions(),
    });
    if (refusals.length === 0) return;
    const hard = refusals.filter((r) => !r.overridable);
    if (hard.length > 0 || !check.override) {
      const fix = hard.length === 0 ? "\nAn admin may deploy anyway with --override --reason TEXT." : "";
      throw new GantryError(
        "DEPLOY_REFUSED",
        `deploy of ${check.service} ${check.version} refused:\n  ${refusals.map((r) => r.message).join("\n  ")}${fix}`,
        {
          field: "version",
          details: { refusals },
        },
      );
    }
    if (check.role !== "admin") {
      throw new GantryError(
        "FORBIDDEN",
        `only an admin may override a ${refusals.map((r) => r.kind).join(" and ")}; your role is ${check.role}`,
      );
    }
    if (!check.reason?.trim()) {
      throw new GantryError(
        "BAD_REQUEST",
        "an override needs a reason: add --reason TEXT, it goes into the audit trail",
        { field: "reason" },
      );
    }
    await this.#d.audit.record({
      actor: check.actor,
      action: "deploy.override",
      service: check.service,
      subject: `release/${check.version}`,
      reason: check.reason,
      data: { overridden: refusals },
    });
  }

  /** Refuses a rollback that would break the live releases depending on this service, unless forced. */
  async checkRollback(input: {
    service: string;
    to: string;
    force?: boolean | undefined;
    actor: string;
    reason?: string | undefined;
  }): Promise<void> {
    const broken = brokenDependants(input.service, input.to, await this.#dependants());
    if (broken.length === 0) return;
    if (!input.force) {
      throw new GantryError(
        "ROLLBACK_BREAKS_DEPENDANTS",
        `rolling ${input.service} back to ${input.to} would break:\n  ${broken.join("\n  ")}\nRoll back anyway with --force.`,
        { field: "service", details: { broken } },
      );
    }
    await this.#d.audit.record({
      actor: input.actor,
      action: "rollback.forced",
      service: input.service,
      reason: input.reason ?? null,
      data: { to: input.to, broken },
    });
  }

  async #liveVersions(): Promise<Record<string, string | null>> {
    const live: Record<string, string | null> = {};
    for (const s of await this.#d.catalog.list())
      live[s.name] = (await this.#d.catalog.state(s.name)).liveVersion;
    return live;
  }

  async #dependants(): Promise<{ service: string; version: string; requires: Record<string, string> }[]> {
    const out = [];
    for (const s of await this.#d.catalog.list()) {
      const live = (await this.#d.catalog.state(s.name)).liveVersion;
      const release = live ? await this.#d.catalog.findRelease(s.name, live) : undefined;
      if (release) out.push({ service: s.name, version: release.version, requires: release.requires });
    }
    return out;
  }
}
