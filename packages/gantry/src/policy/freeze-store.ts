import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { type FreezeSpec, freezeSpec } from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import type { Database } from "../store/index.ts";

export interface Freeze {
  id: string;
  spec: FreezeSpec;
  source: "config" | "api";
  createdBy: string;
  createdAt: string;
}

/** Release freezes, from gantry.yaml (replaced at each start) and from the API. */
export class FreezeStore {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  async list(): Promise<Freeze[]> {
    const rows = await this.#db.selectFrom("freezes").selectAll().orderBy("created_at").execute();
    return rows.map((r) => ({
      id: r.id,
      spec: freezeSpec.parse(JSON.parse(r.spec)),
      source: r.source as Freeze["source"],
      createdBy: r.created_by,
      createdAt: r.created_at,
    }));
  }

  async create(spec: FreezeSpec, source: Freeze["source"], actor: string): Promise<Freeze> {
    const freeze = { id: randomUUID(), spec, source, createdBy: actor, createdAt: this.#now().toISOString() };
    await this.#db
      .insertInto("freezes")
      .values({
        id: freeze.id,
        spec: JSON.stringify(spec),
        source,
        created_by: actor,
        created_at: freeze.createdAt,
      })
      .execute();
    return freeze;
  }

  async delete(idOrName: string): Promise<Freeze> {
    const freeze = (await this.list()).find((f) => f.id === idOrName || f.spec.name === idOrName);
    if (!freeze)
      throw new GantryError("NOT_FOUND", `no freeze "${idOrName}"; \`gantry freeze list\` shows them`, {
        field: "freeze",
      });
    if (freeze.source === "config") {
      throw new GantryError(
        "CONFLICT",
        `freeze "${freeze.spec.name}" comes from gantry.yaml; remove it there`,
        { field: "freeze" },
      );
    }
    await this.#db.deleteFrom("freezes").where("id", "=", freeze.id).execute();
    return freeze;
  }

  /** Makes the freezes from gantry.yaml exactly those given. */
  async syncFromConfig(specs: FreezeSpec[]): Promise<void> {
    await this.#db.deleteFrom("freezes").where("source", "=", "config").execute();
    for (const spec of specs) await this.create(spec, "config", "gantry.yaml");
  }
}
