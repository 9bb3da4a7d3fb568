import type { FlagSet } from "@gantry/sdk";
import type { Kysely } from "kysely";
import type { Database } from "../store/index.ts";
import { emptyFlagSet, type FlagMeta, stableJson } from "./flag-model.ts";

export interface EnvironmentRevision {
  revision: number;
  digest: string;
}

export interface StoredFlags {
  set: FlagSet;
  meta: Map<string, FlagMeta>;
  revisions: Map<string, EnvironmentRevision>;
}

const PLAN_ATTRIBUTE = "flags.planAttribute";

/**
 * Flags, segments and plans as rows of JSON definitions, and each environment's revision.
 * The service validates; this only reads and writes, inside the caller's transaction.
 */
export class FlagStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  get db(): Kysely<Database> {
    return this.#db;
  }

  async load(): Promise<StoredFlags> {
    const set = emptyFlagSet();
    const meta = new Map<string, FlagMeta>();
    for (const row of await this.#db.selectFrom("flags").selectAll().orderBy("key").execute()) {
      set.flags[row.key] = JSON.parse(row.definition);
      meta.set(row.key, {
        version: Number(row.version),
        createdAt: row.created_at,
        createdBy: row.created_by,
        updatedAt: row.updated_at,
        updatedBy: row.updated_by,
      });
    }
    for (const row of await this.#db.selectFrom("flag_segments").selectAll().orderBy("key").execute())
      set.segments[row.key] = JSON.parse(row.definition);
    for (const row of await this.#db.selectFrom("flag_plans").selectAll().orderBy("key").execute())
      set.plans[row.key] = JSON.parse(row.definition);
    const attribute = await this.#db
      .selectFrom("meta")
      .select("value")
      .where("key", "=", PLAN_ATTRIBUTE)
      .executeTakeFirst();
    if (attribute) set.planAttribute = attribute.value;
    const revisions = new Map<string, EnvironmentRevision>();
    for (const row of await this.#db.selectFrom("flag_revisions").selectAll().execute())
      revisions.set(row.environment, { revision: Number(row.revision), digest: row.digest });
    return { set, meta, revisions };
  }

  /** Writes what differs between two sets (and the metadata of changed flags) in tx. */
  async write(
    tx: Kysely<Database>,
    change: {
      before: FlagSet;
      after: FlagSet;
      meta: ReadonlyMap<string, FlagMeta>;
      actor: string;
      at: string;
    },
  ): Promise<void> {
    const { before, after, meta, actor, at } = change;
    for (const key of changedKeys(before.flags, after.flags)) {
      const flag = Object.hasOwn(after.flags, key) ? after.flags[key] : undefined;
      if (!flag) {
        await tx.deleteFrom("flags").where("key", "=", key).execute();
        continue;
      }
      const m = meta.get(key)!;
      const row = {
        definition: JSON.stringify(flag),
        version: m.version,
        updated_at: m.updatedAt,
        updated_by: m.updatedBy,
      };
      await tx
        .insertInto("flags")
        .values({ key, ...row, created_at: m.createdAt, created_by: m.createdBy })
        .onConflict((c) => c.column("key").doUpdateSet(row))
        .execute();
    }
    for (const [kind, table] of [
      ["segments", "flag_segments"],
      ["plans", "flag_plans"],
    ] as const) {
      for (const key of changedKeys(before[kind], after[kind])) {
        const value = Object.hasOwn(after[kind], key) ? after[kind][key] : undefined;
        if (!value) {
          await tx.deleteFrom(table).where("key", "=", key).execute();
          continue;
        }
        const row = { definition: JSON.stringify(value), updated_at: at, updated_by: actor };
        await tx
          .insertInto(table)
          .values({ key, ...row })
          .onConflict((c) => c.column("key").doUpdateSet(row))
          .execute();
      }
    }
    if (before.planAttribute !== after.planAttribute) {
      await tx
        .insertInto("meta")
        .values({ key: PLAN_ATTRIBUTE, value: after.planAttribute })
        .onConflict((c) => c.column("key").doUpdateSet({ value: after.planAttribute }))
        .execute();
    }
  }

  async writeRevision(
    tx: Kysely<Database>,
    environment: string,
    revision: EnvironmentRevision,
    at: string,
  ): Promise<void> {
    const row = { revision: revision.revision, digest: revision.digest, updated_at: at };
    await tx
      .insertInto("flag_revisions")
      .values({ environment, ...row })
      .onConflict((c) => c.column("environment").doUpdateSet(row))
      .execute();
  }
}

/** Keys added, removed or whose value differs. */
export function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => {
    const a = Object.hasOwn(before, k) ? before[k] : undefined;
    const b = Object.hasOwn(after, k) ? after[k] : undefined;
    return a === undefined || b === undefined || stableJson(a) !== stableJson(b);
  });
}
