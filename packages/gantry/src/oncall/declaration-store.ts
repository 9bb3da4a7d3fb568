import type { Kysely } from "kysely";
import type { AuditLog } from "../audit/index.ts";
import type { OncallKind } from "../config/index.ts";
import type { Database } from "../store/index.ts";

/** A row of oncall_declarations: an entry made through the API, in its gantry.yaml form. */
export interface StoredDeclaration {
  kind: string;
  name: string;
  spec: unknown;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
}

/** The entries made through the API, each change committed with its audit event. */
export class DeclarationStore {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, audit: AuditLog, now: () => Date) {
    this.#db = db;
    this.#audit = audit;
    this.#now = now;
  }

  async list(): Promise<StoredDeclaration[]> {
    const rows = await this.#db
      .selectFrom("oncall_declarations")
      .selectAll()
      .orderBy("kind")
      .orderBy("name")
      .execute();
    return rows.map((r) => ({
      kind: r.kind,
      name: r.name,
      spec: JSON.parse(r.spec),
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedBy: r.updated_by,
      updatedAt: r.updated_at,
    }));
  }

  /** Creates or replaces an entry; `previous` (the entry replaced) goes into the audit event. */
  async put(
    change: { kind: OncallKind; name: string; spec: unknown; previous?: unknown },
    actor: string,
    reason: string | undefined,
  ): Promise<void> {
    const { kind, name, spec, previous } = change;
    const at = this.#now().toISOString();
    const text = JSON.stringify(spec);
    const event = await this.#db.transaction().execute(async (tx) => {
      await tx
        .insertInto("oncall_declarations")
        .values({
          kind,
          name,
          spec: text,
          created_by: actor,
          created_at: at,
          updated_by: actor,
          updated_at: at,
        })
        .onConflict((oc) =>
          oc.columns(["kind", "name"]).doUpdateSet({ spec: text, updated_by: actor, updated_at: at }),
        )
        .execute();
      return this.#audit.recordIn(tx, {
        actor,
        action: `oncall.${kind}.declared`,
        subject: `${kind}/${name}`,
        reason: reason ?? null,
        data: { spec, ...(previous !== undefined && { previous }) },
      });
    });
    this.#audit.announce(event);
  }

  /** Deletes an entry; with a schedule, its overrides (the caller checked that all have ended). */
  async delete(
    removed: { kind: OncallKind; name: string; spec: unknown },
    actor: string,
    reason: string | undefined,
  ): Promise<void> {
    const { kind, name, spec } = removed;
    const event = await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom("oncall_declarations").where("kind", "=", kind).where("name", "=", name).execute();
      if (kind === "schedule") await tx.deleteFrom("oncall_overrides").where("schedule", "=", name).execute();
      return this.#audit.recordIn(tx, {
        actor,
        action: `oncall.${kind}.deleted`,
        subject: `${kind}/${name}`,
        reason: reason ?? null,
        data: { spec },
      });
    });
    this.#audit.announce(event);
  }
}
