import type { Kysely } from "kysely";
import { parseOrThrow, type SloSpec, sloSpec, sloToInput } from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import type { Database } from "../store/index.ts";

export type SloSource = "config" | "demo" | "api" | "openslo";

export interface StoredSlo {
  name: string;
  /** As declared (durations and shares as written). */
  declared: unknown;
  spec: SloSpec;
  source: SloSource;
  createdAt: string;
  updatedAt: string;
}

/** SLO definitions: from gantry.yaml (replaced at each start), the demo, the API and OpenSLO imports. */
export class SloCatalog {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;
  readonly #listeners: (() => void)[] = [];

  constructor(db: Kysely<Database>, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  /** Called after any SLO was added, changed or removed. */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  async list(): Promise<StoredSlo[]> {
    const rows = await this.#db.selectFrom("slos").selectAll().orderBy("name").execute();
    return rows.map((r) => {
      const declared = JSON.parse(r.spec);
      return {
        name: r.name,
        declared,
        spec: parseOrThrow(sloSpec, declared, `stored SLO ${r.name}`, "INTERNAL"),
        source: r.source as SloSource,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      };
    });
  }

  async get(name: string): Promise<StoredSlo> {
    const slo = (await this.list()).find((s) => s.name === name);
    if (!slo)
      throw new GantryError("NOT_FOUND", `no SLO "${name}"; \`gantry slo list\` shows them`, {
        field: "slo",
      });
    return slo;
  }

  /** Adds or replaces SLOs (already validated) in one transaction. */
  async put(entries: { name: string; spec: SloSpec }[], source: SloSource): Promise<void> {
    const at = this.#now().toISOString();
    await this.#db.transaction().execute(async (tx) => {
      for (const { name, spec } of entries) {
        const declared = sloToInput(spec);
        const existing = await tx
          .selectFrom("slos")
          .select("source")
          .where("name", "=", name)
          .executeTakeFirst();
        if (existing?.source === "config" && source !== "config")
          throw new GantryError("CONFLICT", `SLO "${name}" comes from gantry.yaml; change it there`, {
            field: name,
          });
        await tx
          .insertInto("slos")
          .values({ name, spec: JSON.stringify(declared), source, created_at: at, updated_at: at })
          .onConflict((oc) =>
            oc.column("name").doUpdateSet({ spec: JSON.stringify(declared), source, updated_at: at }),
          )
          .execute();
      }
    });
    this.#changed();
  }

  async delete(name: string): Promise<StoredSlo> {
    const slo = await this.get(name);
    if (slo.source === "config")
      throw new GantryError("CONFLICT", `SLO "${name}" comes from gantry.yaml; remove it there`, {
        field: "slo",
      });
    await this.#db.deleteFrom("slos").where("name", "=", name).execute();
    this.#changed();
    return slo;
  }

  /** Makes the SLOs from gantry.yaml exactly those given. */
  async syncFromConfig(slos: Record<string, SloSpec>): Promise<void> {
    await this.#db.deleteFrom("slos").where("source", "=", "config").execute();
    await this.put(
      Object.entries(slos).map(([name, spec]) => ({ name, spec })),
      "config",
    );
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
