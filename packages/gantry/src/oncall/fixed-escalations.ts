import type { Kysely } from "kysely";
import type { Database } from "../store/index.ts";
import type { EscalationPolicy } from "./escalation.ts";

/** The escalation policy of each incident, fixed in the store when its escalation starts. */
export class FixedEscalations {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;
  /** Rows never change once written. */
  readonly #known = new Map<number, EscalationPolicy>();

  constructor(db: Kysely<Database>, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * The incident's policy: the one fixed before, else `resolve()`'s, fixed now (when another
   * replica fixed one first, that one). Undefined when none was fixed and none resolves.
   */
  async fix(
    incidentId: number,
    resolve: () => EscalationPolicy | undefined,
  ): Promise<EscalationPolicy | undefined> {
    const known = this.#known.get(incidentId);
    if (known) return known;
    const read = () =>
      this.#db
        .selectFrom("escalations")
        .select("spec")
        .where("incident_id", "=", incidentId)
        .executeTakeFirst();
    let row = await read();
    if (!row) {
      const policy = resolve();
      if (!policy) return undefined;
      await this.#db
        .insertInto("escalations")
        .values({
          incident_id: incidentId,
          policy: policy.name,
          spec: JSON.stringify(policy),
          created_at: this.#now().toISOString(),
        })
        .onConflict((oc) => oc.column("incident_id").doNothing())
        .execute();
      row = await read();
    }
    const policy = JSON.parse(row!.spec) as EscalationPolicy;
    this.#known.set(incidentId, policy);
    // Open incidents are asked about again and again; long-closed ones are not.
    if (this.#known.size > 10_000) this.#known.delete(this.#known.keys().next().value!);
    return policy;
  }

  /** Escalations of incidents still paging (triggered, not yet acknowledged). */
  async underWay(): Promise<{ incidentId: number; policy: EscalationPolicy }[]> {
    const rows = await this.#db
      .selectFrom("escalations")
      .innerJoin("incidents", "incidents.id", "escalations.incident_id")
      .select(["escalations.incident_id", "escalations.spec"])
      .where("incidents.status", "=", "triggered")
      .orderBy("escalations.incident_id")
      .execute();
    return rows.map((r) => ({ incidentId: Number(r.incident_id), policy: JSON.parse(r.spec) }));
  }
}
