import type { Kysely } from "kysely";
import { type OncallSpec, toPolicy, toSchedule } from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import type { Incident } from "../incidents/index.ts";
import type { Database } from "../store/index.ts";
import type { EscalationPolicy } from "./escalation.ts";
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

/**
 * People, schedules and escalation policies as declared in gantry.yaml, with the overrides
 * added through the API; and which policy pages for an incident.
 */
export class OncallDirectory {
  readonly #spec: OncallSpec;
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;
  #overrides: StoredOverride[] = [];

  constructor(spec: OncallSpec, db: Kysely<Database>, now: () => Date) {
    this.#spec = spec;
    this.#db = db;
    this.#now = now;
  }

  get spec(): OncallSpec {
    return this.#spec;
  }

  async load(): Promise<void> {
    const rows = await this.#db.selectFrom("oncall_overrides").selectAll().orderBy("id").execute();
    this.#overrides = rows.map((r) => ({
      id: Number(r.id),
      schedule: r.schedule,
      person: r.person,
      from: r.from_at,
      to: r.to_at,
      reason: r.reason,
      createdBy: r.created_by,
    }));
  }

  schedules(): Map<string, Schedule> {
    const out = new Map<string, Schedule>();
    for (const [name, spec] of Object.entries(this.#spec.schedules)) {
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
        `no schedule "${name}"; declared: ${Object.keys(this.#spec.schedules).join(", ") || "none"} (gantry.yaml oncall.schedules)`,
        { field: "schedule" },
      );
    return s;
  }

  policies(): Map<string, EscalationPolicy> {
    return new Map(Object.entries(this.#spec.policies).map(([name, p]) => [name, toPolicy(name, p)]));
  }

  /** The policy of the first route matching the incident's service and severity. */
  policyFor(incident: Pick<Incident, "service" | "severity">): EscalationPolicy | undefined {
    const route = this.#spec.routes.find(
      (r) =>
        (r.service === undefined || r.service === incident.service) &&
        r.severities.includes(incident.severity),
    );
    return route ? this.policies().get(route.policy) : undefined;
  }

  contacts(person: string) {
    return this.#spec.people[person]?.contacts ?? [];
  }

  overrides(schedule?: string): StoredOverride[] {
    return this.#overrides.filter((o) => schedule === undefined || o.schedule === schedule);
  }

  async addOverride(
    o: { schedule: string; person: string; from: string; to: string; reason?: string | undefined },
    actor: string,
  ) {
    this.schedule(o.schedule);
    if (!Object.hasOwn(this.#spec.people, o.person))
      throw new GantryError("BAD_REQUEST", `"${o.person}" is not in oncall.people`, { field: "person" });
    if (!(Date.parse(o.from) < Date.parse(o.to)))
      throw new GantryError("BAD_REQUEST", "from must be before to", { field: "to" });
    await this.#db
      .insertInto("oncall_overrides")
      .values({
        schedule: o.schedule,
        person: o.person,
        from_at: new Date(o.from).toISOString(),
        to_at: new Date(o.to).toISOString(),
        reason: o.reason ?? null,
        created_by: actor,
        created_at: this.#now().toISOString(),
      })
      .execute();
    await this.load();
    return this.#overrides.at(-1)!;
  }

  async deleteOverride(id: number): Promise<StoredOverride> {
    const found = this.#overrides.find((o) => o.id === id);
    if (!found) throw new GantryError("NOT_FOUND", `no override ${id}`, { field: "override" });
    await this.#db.deleteFrom("oncall_overrides").where("id", "=", id).execute();
    await this.load();
    return found;
  }
}
