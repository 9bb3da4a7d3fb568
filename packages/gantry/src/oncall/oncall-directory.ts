import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/index.ts";
import {
  issuePath,
  type OncallKind,
  type OncallSpec,
  type OncallSpecOf,
  oncallCollections,
  oncallEntrySpecs,
  oncallKinds,
  oncallToInput,
  type RouteSpec,
  toPolicy,
  toSchedule,
} from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import type { Incident } from "../incidents/index.ts";
import type { Database } from "../store/index.ts";
import { DeclarationStore } from "./declaration-store.ts";
import type { EscalationPolicy } from "./escalation.ts";
import { FixedEscalations } from "./fixed-escalations.ts";
import { type OncallEntry, referrersOf, unknownNames } from "./oncall-referrers.ts";
import type { Schedule } from "./rotation.ts";

export interface StoredOverride {
  id: number;
  schedule: string;
  person: string;
  from: string;
  to: string;
  reason: string | null;
  createdBy: string;
}

/** gantry.yaml (config as code, read at each start) or the API (kept in the store). */
export type OncallSource = "config" | "api";

/** A person, schedule, policy or route as the API shows it. */
export interface OncallDeclaration {
  kind: OncallKind;
  /** null for a route of gantry.yaml, which has no name (its place in the list is its identity). */
  name: string | null;
  source: OncallSource;
  /** The entry as written in gantry.yaml or sent to the API. */
  spec: unknown;
  createdBy: string | null;
  createdAt: string | null;
  updatedBy: string | null;
  updatedAt: string | null;
}

interface ApiEntry {
  name: string;
  spec: OncallSpecOf[OncallKind];
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
}

export interface OncallDirectoryDeps {
  /** gantry.yaml `oncall:`. */
  spec: OncallSpec;
  db: Kysely<Database>;
  audit: AuditLog;
  now: () => Date;
  log?: Logger | undefined;
}

const collectionKind = { people: "person", schedules: "schedule", policies: "policy" } as const;

/**
 * People, schedules, escalation policies and routes: those declared in gantry.yaml and those
 * written through the API, with the overrides added through the API; which policy pages for an
 * incident. gantry.yaml's entries are config as code: the API cannot change or delete them,
 * nor take their names; they name only each other, while API entries may name both.
 */
export class OncallDirectory {
  readonly #d: OncallDirectoryDeps;
  #overrides: StoredOverride[] = [];
  #api = new Map<OncallKind, Map<string, ApiEntry>>(oncallKinds.map((k) => [k, new Map()]));
  #problems: string[] = [];
  readonly #escalations: FixedEscalations;
  readonly #store: DeclarationStore;
  /** Changes one at a time, so a check and the write it allows see the same entries. */
  #writing: Promise<unknown> = Promise.resolve();

  constructor(deps: OncallDirectoryDeps) {
    this.#d = deps;
    this.#escalations = new FixedEscalations(deps.db, deps.now);
    this.#store = new DeclarationStore(deps.db, deps.audit, deps.now);
  }

  /** gantry.yaml `oncall:`. */
  get spec(): OncallSpec {
    return this.#d.spec;
  }

  async load(): Promise<void> {
    const rows = await this.#d.db.selectFrom("oncall_overrides").selectAll().orderBy("id").execute();
    this.#overrides = rows.map((r) => ({
      id: Number(r.id),
      schedule: r.schedule,
      person: r.person,
      from: r.from_at,
      to: r.to_at,
      reason: r.reason,
      createdBy: r.created_by,
    }));
    const api = new Map<OncallKind, Map<string, ApiEntry>>(oncallKinds.map((k) => [k, new Map()]));
    const problems: string[] = [];
    for (const r of await this.#store.list()) {
      const kind = r.kind as OncallKind;
      if (!oncallKinds.includes(kind)) continue;
      if (this.#declared(kind, r.name)) {
        problems.push(
          `${kind} "${r.name}" made through the API is ignored: gantry.yaml now declares one of that name (oncall.${oncallCollections[kind]}.${r.name})`,
        );
        continue;
      }
      const parsed = oncallEntrySpecs[kind].safeParse(r.spec);
      if (!parsed.success) {
        problems.push(
          `${kind} "${r.name}" made through the API is ignored: ${parsed.error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`).join("; ")}; PUT it again`,
        );
        continue;
      }
      api.get(kind)!.set(r.name, {
        name: r.name,
        spec: parsed.data,
        createdBy: r.createdBy,
        createdAt: r.createdAt,
        updatedBy: r.updatedBy,
        updatedAt: r.updatedAt,
      });
    }
    this.#api = api;
    // gantry.yaml may have dropped a name an API entry uses.
    for (const entry of this.#apiEntries())
      for (const issue of this.#referenceIssues(entry.kind, entry.spec as never))
        problems.push(`${entry.kind} "${entry.name}" (API): ${issue.message}`);
    for (const p of problems.filter((p) => !this.#problems.includes(p)))
      this.#d.log?.warn({ component: "oncall" }, p);
    this.#problems = problems;
  }

  /** What is wrong with the entries made through the API (ignored ones, names no longer declared). */
  problems(): string[] {
    return [...this.#problems];
  }

  schedules(): Map<string, Schedule> {
    const out = new Map<string, Schedule>();
    const specs = [
      ...Object.entries(this.#d.spec.schedules),
      ...[...this.#api.get("schedule")!].map(([n, e]) => [n, e.spec as OncallSpecOf["schedule"]] as const),
    ];
    for (const [name, spec] of specs) {
      const extra = this.#overrides
        .filter((o) => o.schedule === name)
        .map((o) => ({ person: o.person, from: Date.parse(o.from), to: Date.parse(o.to) }));
      out.set(name, toSchedule(name, spec, extra));
    }
    return out;
  }

  schedule(name: string): Schedule {
    const s = this.schedules().get(name);
    if (!s)
      throw new GantryError(
        "NOT_FOUND",
        `no schedule "${name}"; there are: ${[...this.schedules().keys()].join(", ") || "none"} (gantry.yaml oncall.schedules, or PUT /api/v1/oncall/schedules/NAME)`,
        { field: "schedule" },
      );
    return s;
  }

  policies(): Map<string, EscalationPolicy> {
    return new Map([
      ...Object.entries(this.#d.spec.policies).map(([name, p]) => [name, toPolicy(name, p)] as const),
      ...[...this.#api.get("policy")!].map(
        ([name, e]) => [name, toPolicy(name, e.spec as OncallSpecOf["policy"])] as const,
      ),
    ]);
  }

  /** In the order they are tried: gantry.yaml's in file order, then the API's by name. */
  routes(): { name: string | null; source: OncallSource; spec: RouteSpec }[] {
    return [
      ...this.#d.spec.routes.map((spec) => ({ name: null, source: "config" as const, spec })),
      ...[...this.#api.get("route")!.values()]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((e) => ({ name: e.name, source: "api" as const, spec: e.spec as RouteSpec })),
    ];
  }

  /** The policy of the first route matching the incident's service and severity, as it is now. */
  policyFor(incident: Pick<Incident, "service" | "severity">): EscalationPolicy | undefined {
    const route = this.routes().find(
      ({ spec: r }) =>
        (r.service === undefined || r.service === incident.service) &&
        r.severities.includes(incident.severity),
    );
    return route ? this.policies().get(route.spec.policy) : undefined;
  }

  /**
   * The policy an incident escalates by: fixed the first time it is asked (the first planning
   * after the incident triggers) and kept in the store, so that changing or deleting the policy
   * or its route later, or a restart, never cuts short, restarts or renumbers an escalation
   * under way. Schedules are still read when each level is reached.
   */
  escalationFor(
    incident: Pick<Incident, "id" | "service" | "severity">,
  ): Promise<EscalationPolicy | undefined> {
    return this.#escalations.fix(incident.id, () => this.policyFor(incident));
  }

  contacts(person: string) {
    return (
      this.#d.spec.people[person]?.contacts ??
      (this.#api.get("person")!.get(person)?.spec as OncallSpecOf["person"] | undefined)?.contacts ??
      []
    );
  }

  /** Every entry of a kind: gantry.yaml's first, then the API's (routes in the order they are tried). */
  declarations(kind: OncallKind): OncallDeclaration[] {
    if (kind === "route")
      return this.routes().map((r) =>
        r.source === "config" ? configView(kind, null, r.spec) : this.#apiView(kind, r.name!),
      );
    const declared = this.#d.spec[oncallCollections[kind]] as Record<string, OncallSpecOf[OncallKind]>;
    return [
      ...Object.entries(declared).map(([name, spec]) => configView(kind, name, spec as never)),
      ...[...this.#api.get(kind)!.keys()].map((name) => this.#apiView(kind, name)),
    ];
  }

  declaration(kind: OncallKind, name: string): OncallDeclaration {
    const found = this.declarations(kind).find((d) => d.name === name);
    if (!found)
      throw new GantryError(
        "NOT_FOUND",
        `no ${kind} "${name}"; there are: ${
          this.declarations(kind)
            .flatMap((d) => (d.name ? [d.name] : []))
            .join(", ") || "none"
        }`,
        { field: kind },
      );
    return found;
  }

  /** What names a person, schedule or policy (entries, overrides, escalations under way). */
  async referrers(kind: OncallKind, name: string): Promise<string[]> {
    if (kind === "route") return [];
    return referrersOf(
      { kind, name },
      {
        entries: [...this.#configEntries(), ...this.#apiEntries()],
        overrides: this.#overrides,
        escalations: await this.#escalations.underWay(),
        now: this.#d.now().getTime(),
      },
    );
  }

  /**
   * Creates or replaces an entry made through the API; refused when gantry.yaml declares the
   * name or the entry names a person, schedule, policy or notifier that does not exist.
   */
  put<K extends OncallKind>(
    kind: K,
    name: string,
    spec: OncallSpecOf[K],
    actor: string,
    reason?: string,
  ): Promise<{ declaration: OncallDeclaration; created: boolean }> {
    return this.#serially(async () => {
      this.#refuseDeclared(kind, name, "change");
      const issues = this.#referenceIssues(kind, spec);
      if (issues.length > 0) {
        const lines = issues.map((i) => `${issuePath(i.path)}: ${i.message}`);
        throw new GantryError("BAD_REQUEST", `${kind} ${name} is invalid:\n  ${lines.join("\n  ")}`, {
          field: issuePath(issues[0]!.path),
          details: { problems: lines },
        });
      }
      const previous = this.#api.get(kind)!.get(name);
      await this.#store.put(
        {
          kind,
          name,
          spec: oncallToInput(kind, spec),
          ...(previous && { previous: oncallToInput(kind, previous.spec as never) }),
        },
        actor,
        reason,
      );
      await this.load();
      return { declaration: this.#apiView(kind, name), created: !previous };
    });
  }

  /** Deletes an entry made through the API; refused while anything still names it. */
  delete(kind: OncallKind, name: string, actor: string, reason?: string): Promise<OncallDeclaration> {
    return this.#serially(async () => {
      this.#refuseDeclared(kind, name, "delete");
      if (!this.#api.get(kind)!.has(name)) this.declaration(kind, name);
      const removed = this.#apiView(kind, name);
      const referrers = await this.referrers(kind, name);
      if (referrers.length > 0)
        throw new GantryError(
          "CONFLICT",
          `${kind} "${name}" is still named by: ${referrers.join("; ")}; change or delete those first`,
          { field: kind, details: { referrers } },
        );
      // Only ended overrides can be left (others hold the schedule): they go with it.
      await this.#store.delete({ kind, name, spec: removed.spec }, actor, reason);
      await this.load();
      return removed;
    });
  }

  overrides(schedule?: string): StoredOverride[] {
    return this.#overrides.filter((o) => schedule === undefined || o.schedule === schedule);
  }

  addOverride(
    o: { schedule: string; person: string; from: string; to: string; reason?: string | undefined },
    actor: string,
  ): Promise<StoredOverride> {
    return this.#serially(async () => {
      this.schedule(o.schedule);
      if (!this.#known("people", o.person))
        throw new GantryError(
          "BAD_REQUEST",
          `"${o.person}" is not in oncall.people nor a person made through the API; add them first`,
          { field: "person" },
        );
      if (!(Date.parse(o.from) < Date.parse(o.to)))
        throw new GantryError("BAD_REQUEST", "from must be before to", { field: "to" });
      await this.#d.db
        .insertInto("oncall_overrides")
        .values({
          schedule: o.schedule,
          person: o.person,
          from_at: new Date(o.from).toISOString(),
          to_at: new Date(o.to).toISOString(),
          reason: o.reason ?? null,
          created_by: actor,
          created_at: this.#d.now().toISOString(),
        })
        .execute();
      await this.load();
      return this.#overrides.at(-1)!;
    });
  }

  deleteOverride(id: number): Promise<StoredOverride> {
    return this.#serially(async () => {
      const found = this.#overrides.find((o) => o.id === id);
      if (!found) throw new GantryError("NOT_FOUND", `no override ${id}`, { field: "override" });
      await this.#d.db.deleteFrom("oncall_overrides").where("id", "=", id).execute();
      await this.load();
      return found;
    });
  }

  #serially<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#writing.then(change, change);
    this.#writing = run.catch(() => undefined);
    return run;
  }

  /** Whether gantry.yaml declares this entry (its routes have no names, so never a route). */
  #declared(kind: OncallKind, name: string): boolean {
    return kind !== "route" && Object.hasOwn(this.#d.spec[oncallCollections[kind]], name);
  }

  #known(collection: "notifiers" | "people" | "schedules" | "policies", name: string): boolean {
    if (Object.hasOwn(this.#d.spec[collection], name)) return true;
    return collection !== "notifiers" && this.#api.get(collectionKind[collection])!.has(name);
  }

  #refuseDeclared(kind: OncallKind, name: string, verb: "change" | "delete"): void {
    if (!this.#declared(kind, name)) return;
    const key = `oncall.${oncallCollections[kind]}.${name}`;
    throw new GantryError(
      "CONFLICT",
      verb === "change"
        ? `${kind} "${name}" is declared in gantry.yaml (${key}); change it there, or choose another name for one made through the API`
        : `${kind} "${name}" is declared in gantry.yaml (${key}); remove it there`,
      { field: kind },
    );
  }

  /** The names an entry uses that exist nowhere, and contacts that lack an address. */
  #referenceIssues<K extends OncallKind>(kind: K, spec: OncallSpecOf[K]) {
    const c = this.#d.spec;
    return unknownNames(kind, spec, {
      notifiers: c.notifiers,
      people: [...Object.keys(c.people), ...this.#api.get("person")!.keys()],
      schedules: [...Object.keys(c.schedules), ...this.#api.get("schedule")!.keys()],
      policies: [...Object.keys(c.policies), ...this.#api.get("policy")!.keys()],
    });
  }

  *#configEntries(): Generator<OncallEntry> {
    for (const kind of ["person", "schedule", "policy"] as const)
      for (const [name, spec] of Object.entries(this.#d.spec[oncallCollections[kind]]))
        yield { kind, name, spec } as OncallEntry;
  }

  *#apiEntries(): Generator<OncallEntry> {
    for (const [kind, entries] of this.#api)
      for (const e of entries.values()) yield { kind, name: e.name, spec: e.spec } as OncallEntry;
  }

  #apiView(kind: OncallKind, name: string): OncallDeclaration {
    const e = this.#api.get(kind)!.get(name)!;
    return {
      kind,
      name,
      source: "api",
      spec: oncallToInput(kind, e.spec),
      createdBy: e.createdBy,
      createdAt: e.createdAt,
      updatedBy: e.updatedBy,
      updatedAt: e.updatedAt,
    };
  }
}

function configView<K extends OncallKind>(
  kind: K,
  name: string | null,
  spec: OncallSpecOf[K],
): OncallDeclaration {
  return {
    kind,
    name,
    source: "config",
    spec: oncallToInput(kind, spec),
    createdBy: null,
    createdAt: null,
    updatedBy: null,
    updatedAt: null,
  };
}
