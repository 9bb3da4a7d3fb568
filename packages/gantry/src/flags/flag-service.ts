import {
  type CompiledFlagSet,
  compileFlagSet,
  type EvaluationContext,
  type EvaluationResult,
  evaluate,
  evaluateAll,
  type FlagSet,
} from "@gantry/sdk";
import type { Logger } from "pino";
import type { AuditEvent, AuditLog } from "../audit/index.ts";
import type { Role } from "../auth/index.ts";
import { GantryError } from "../errors/index.ts";
import { type ItemChange, itemChanges, servedChanges } from "./flag-changes.ts";
import { type CandidateSet, invalidFlagSet, requireEnvironment, settle } from "./flag-edits.ts";
import {
  digestOf,
  disabledEnvironment,
  type FlagEnvironment,
  type FlagMeta,
  type FlagState,
  projectEnvironment,
} from "./flag-model.ts";
import type { EnvironmentRevision, FlagStore } from "./flag-store.ts";

/** What one environment's SDKs receive, compiled once per revision. */
export interface FlagSnapshot {
  readonly environment: string;
  readonly revision: number;
  /** `"<revision>"`, the ETag of the SDK sync endpoints. */
  readonly etag: string;
  /** The environment's flag set in the evaluator's format (only this environment in each flag). */
  readonly flagSet: FlagSet;
  readonly compiled: CompiledFlagSet;
  /** The JSON body of GET /api/v1/sdk/flags: {environment, revision, flagSet}. */
  readonly body: string;
}

/** Who asks for a change, and why. */
export interface ChangeBy {
  actor: string;
  role: Role;
  reason?: string | undefined;
  /** The audit action when not the generic one (flag.killed). */
  action?: string;
  /** A kill may be done by a deployer in a protected environment: it only ever turns a flag off. */
  allowProtected?: boolean;
  /** Where the change comes from, recorded in the audit event (api, apply, schedule). */
  source?: string;
  /** The flag version the caller read; a different current version is a conflict. */
  expectedVersion?: { key: string; version: number } | undefined;
}

export interface ChangeResult {
  changes: ItemChange[];
  /** Environments whose served set changed, with their new revisions. */
  revisions: Record<string, number>;
  dryRun: boolean;
}

export interface FlagServiceDeps {
  store: FlagStore;
  audit: AuditLog;
  environments: readonly FlagEnvironment[];
  now: () => Date;
  log: Logger;
  /** Called with each evaluation the server itself serves (lifecycle). */
  onServed?: (environment: string, flagKey: string, variant: string) => void;
}

type Listener = (snapshot: FlagSnapshot) => void;

/**
 * The flags of every environment: the one place they change. Every change is validated as a
 * whole set with the shared evaluator's rules before it is stored, committed together with
 * its audit event, and reaches the environments it alters as a new revision.
 */
export class FlagService {
  readonly environments: readonly FlagEnvironment[];
  readonly #d: FlagServiceDeps;
  #state: FlagState;
  #revisions: Map<string, EnvironmentRevision>;
  #lastRevision: number;
  readonly #snapshots = new Map<string, FlagSnapshot>();
  readonly #listeners = new Map<string, Set<Listener>>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(deps: FlagServiceDeps, state: FlagState, revisions: Map<string, EnvironmentRevision>) {
    this.#d = deps;
    this.environments = deps.environments;
    this.#state = state;
    this.#revisions = revisions;
    this.#lastRevision = Math.max(0, ...[...revisions.values()].map((r) => r.revision));
  }

  /** Loads the flags, fitting them to the configured environments, and brings every revision up to date. */
  static async open(deps: FlagServiceDeps): Promise<FlagService> {
    const stored = await deps.store.load();
    const set = fitToEnvironments(stored.set, deps.environments, deps.log);
    const settled = settle(set as unknown as CandidateSet, deps.environments);
    if (!settled.ok) {
      throw new GantryError(
        "INTERNAL",
        `the stored flag set is invalid (${settled.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}); fix it with \`gantry apply\` after starting with the flags removed`,
      );
    }
    const service = new FlagService(deps, { set: settled.set, meta: stored.meta }, stored.revisions);
    await service.#reviseChanged(
      deps.environments.filter(
        (e) => stored.revisions.get(e.name)?.digest !== digestOf(projectEnvironment(settled.set, e.name)),
      ),
    );
    return service;
  }

  /** The current flag set (every environment) with flag metadata. */
  get state(): FlagState {
    return this.#state;
  }

  environment(name: string): FlagEnvironment {
    return requireEnvironment(this.environments, name);
  }

  /** The environment's current flag set, revision and compiled evaluator. */
  snapshot(environment: string): FlagSnapshot {
    const cached = this.#snapshots.get(environment);
    if (cached) return cached;
    this.environment(environment);
    const flagSet = projectEnvironment(this.#state.set, environment);
    const compilation = compileFlagSet(flagSet);
    if (!compilation.ok)
      throw new GantryError(
        "INTERNAL",
        `flag set of ${environment} does not compile: ${compilation.errors[0]?.message}`,
      );
    const revision = this.#revisions.get(environment)?.revision ?? 0;
    const snapshot: FlagSnapshot = Object.freeze({
      environment,
      revision,
      etag: `"${revision}"`,
      flagSet,
      compiled: compilation.flagSet,
      body: JSON.stringify({ environment, revision, flagSet }),
    });
    this.#snapshots.set(environment, snapshot);
    return snapshot;
  }

  /** Calls listener with the new snapshot after every change of the environment; returns the unsubscribe. */
  subscribe(environment: string, listener: Listener): () => void {
    this.environment(environment);
    const set = this.#listeners.get(environment) ?? new Set<Listener>();
    this.#listeners.set(environment, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  /** One flag for a context, by the shared evaluator; never throws for a bad flag or context. */
  evaluate(
    environment: string,
    flagKey: string,
    context: EvaluationContext,
    type?: "boolean" | "string" | "number" | "object",
  ): EvaluationResult {
    const snapshot = this.snapshot(environment);
    const result = evaluate(snapshot.compiled, flagKey, environment, context, {
      now: this.#d.now(),
      ...(type !== undefined && { type }),
    });
    if (result.variant !== null) this.#d.onServed?.(environment, flagKey, result.variant);
    return result;
  }

  /** Every flag of the environment for a context (OFREP bulk evaluation). */
  evaluateAll(environment: string, context: EvaluationContext): Record<string, EvaluationResult> {
    const results = evaluateAll(this.snapshot(environment).compiled, environment, context, {
      now: this.#d.now(),
    });
    if (this.#d.onServed)
      for (const [key, r] of Object.entries(results))
        if (r.variant !== null) this.#d.onServed(environment, key, r.variant);
    return results;
  }

  /**
   * Applies an edit: builds the candidate from the current set, validates it whole, checks
   * the caller may change every environment it alters, and commits it with its audit events.
   * With dryRun, only says what would change.
   */
  change(by: ChangeBy, edit: (set: FlagSet) => CandidateSet, dryRun = false): Promise<ChangeResult> {
    const run = this.#queue.then(() => this.#change(by, edit, dryRun));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #change(by: ChangeBy, edit: (set: FlagSet) => CandidateSet, dryRun: boolean): Promise<ChangeResult> {
    const before = this.#state.set;
    if (by.expectedVersion) {
      const current = this.#state.meta.get(by.expectedVersion.key)?.version;
      if (current !== undefined && current !== by.expectedVersion.version)
        throw new GantryError(
          "CONFLICT",
          `flag "${by.expectedVersion.key}" changed since it was read (version ${by.expectedVersion.version}, now ${current}); read it again and retry`,
          { field: "version" },
        );
    }
    const settled = settle(edit(before), this.environments);
    if (!settled.ok) throw invalidFlagSet(settled.issues);
    const after = settled.set;
    const changes = itemChanges(before, after, this.environments);
    if (changes.length === 0) return { changes, revisions: {}, dryRun };
    // New revisions wherever what SDKs receive differs (descriptions included).
    const altered = this.environments.filter(
      (e) => this.#revisions.get(e.name)?.digest !== digestOf(projectEnvironment(after, e.name)),
    );
    this.#authorise(by, before, after);
    if (dryRun) return { changes, revisions: {}, dryRun };

    const at = this.#d.now().toISOString();
    const meta = new Map(this.#state.meta);
    for (const c of changes) {
      if (c.kind !== "flag") continue;
      if (c.change === "deleted") meta.delete(c.key);
      else {
        const old = meta.get(c.key);
        meta.set(c.key, {
          version: (old?.version ?? 0) + 1,
          createdAt: old?.createdAt ?? at,
          createdBy: old?.createdBy ?? by.actor,
          updatedAt: at,
          updatedBy: by.actor,
        });
      }
    }
    const revisions = new Map(this.#revisions);
    let last = this.#lastRevision;
    for (const e of altered)
      revisions.set(e.name, { revision: ++last, digest: digestOf(projectEnvironment(after, e.name)) });
    const events = await this.#d.store.db.transaction().execute(async (tx) => {
      await this.#d.store.write(tx, { before, after, meta, actor: by.actor, at });
      for (const e of altered) await this.#d.store.writeRevision(tx, e.name, revisions.get(e.name)!, at);
      const stored: AuditEvent[] = [];
      for (const c of changes) stored.push(await this.#d.audit.recordIn(tx, auditEvent(c, by, meta)));
      return stored;
    });
    this.#state = { set: after, meta };
    this.#revisions = revisions;
    this.#lastRevision = last;
    this.#published(altered.map((e) => e.name));
    this.#d.audit.announce(...events);
    return {
      changes,
      revisions: Object.fromEntries(altered.map((e) => [e.name, revisions.get(e.name)!.revision])),
      dryRun,
    };
  }

  #authorise(by: ChangeBy, before: FlagSet, after: FlagSet): void {
    if (by.role === "admin" || by.allowProtected) return;
    const protectedOnes = servedChanges(before, after, this.environments, { exemptNewOffFlags: true }).filter(
      (e) => e.protected,
    );
    if (protectedOnes.length === 0) return;
    const names = protectedOnes.map((e) => e.name).join(", ");
    throw new GantryError(
      "FORBIDDEN",
      `this changes what ${names} serves, and ${names} ${protectedOnes.length > 1 ? "are" : "is"} protected: it needs role admin; "${by.actor}" has role ${by.role}`,
      { field: "environment" },
    );
  }

  /** New revisions for environments whose set differs from the stored digest (start, gantry.yaml changed). */
  async #reviseChanged(environments: readonly FlagEnvironment[]): Promise<void> {
    if (environments.length === 0) return;
    const at = this.#d.now().toISOString();
    await this.#d.store.db.transaction().execute(async (tx) => {
      for (const e of environments) {
        const revision = {
          revision: ++this.#lastRevision,
          digest: digestOf(projectEnvironment(this.#state.set, e.name)),
        };
        this.#revisions.set(e.name, revision);
        await this.#d.store.writeRevision(tx, e.name, revision, at);
      }
    });
  }

  #published(environments: string[]): void {
    for (const name of environments) {
      this.#snapshots.delete(name);
      const listeners = this.#listeners.get(name);
      if (!listeners || listeners.size === 0) continue;
      const snapshot = this.snapshot(name);
      for (const listener of listeners) {
        try {
          listener(snapshot);
        } catch (err) {
          this.#d.log.error({ err, environment: name }, "flag listener failed");
        }
      }
    }
  }

  /** Metadata of a flag (version, who created and changed it when). */
  meta(key: string): FlagMeta | undefined {
    return this.#state.meta.get(key);
  }
}

function auditEvent(c: ItemChange, by: ChangeBy, meta: ReadonlyMap<string, FlagMeta>) {
  const subject =
    c.kind === "flag" ? `flag/${c.key}` : c.kind === "planAttribute" ? "flag-set" : `flag-${c.kind}/${c.key}`;
  const action =
    by.action && c.kind === "flag"
      ? by.action
      : `${c.kind === "planAttribute" ? "flag-set" : c.kind === "flag" ? "flag" : `flag-${c.kind}`}.${c.change}`;
  return {
    actor: by.actor,
    action,
    subject,
    reason: by.reason ?? null,
    data: {
      environments: c.environments,
      changes: c.fields,
      ...(c.before !== undefined && { before: c.before }),
      ...(c.after !== undefined && { after: c.after }),
      ...(c.kind === "flag" && meta.has(c.key) && { version: meta.get(c.key)!.version }),
      source: by.source ?? "api",
    },
  };
}

/** Adds configured environments a stored flag lacks (off) and drops those gantry.yaml no longer lists. */
function fitToEnvironments(set: FlagSet, environments: readonly FlagEnvironment[], log: Logger): FlagSet {
  const names = new Set(environments.map((e) => e.name));
  const flags: FlagSet["flags"] = {};
  for (const [key, flag] of Object.entries(set.flags)) {
    const fitted: FlagSet["flags"][string]["environments"] = {};
    for (const e of environments) fitted[e.name] = flag.environments[e.name] ?? disabledEnvironment();
    const dropped = Object.keys(flag.environments).filter((n) => !names.has(n));
    if (dropped.length > 0)
      log.warn(
        { flag: key, dropped },
        "flag environments not in gantry.yaml are ignored (and dropped on its next change)",
      );
    flags[key] = { ...flag, environments: fitted };
  }
  return { ...set, flags };
}
