import type { Kysely } from "kysely";
import type { Role } from "../auth/index.ts";
import type { Database } from "../store/index.ts";
import type { BisectCheck } from "./bisect-check.ts";
import type { ItemKind, ItemProjection } from "./bisect-window.ts";

export type BisectStatus = "running" | "found" | "not-a-flag" | "failed" | "cancelled" | "interrupted";

/** A change of the window as a bisection shows it (its values are in the audit event). */
export interface BisectChange {
  readonly seq: number;
  readonly auditId: number;
  readonly at: string;
  readonly actor: string;
  readonly reason: string | null;
  readonly action: string;
  readonly kind: ItemKind;
  readonly key: string;
  readonly fields: readonly string[];
}

export interface BisectStepRecord {
  /** 1-based. */
  readonly check: number;
  /** How many of the window's changes were applied (the rest reverted). */
  readonly prefix: number;
  readonly passed: boolean;
  readonly detail: string;
  readonly at: string;
}

export type BisectResult =
  | {
      readonly kind: "found";
      /** `seq` of the change that brings the regression in. */
      readonly change: number;
      readonly proof: { readonly passedWithout: boolean; readonly failedWith: boolean };
    }
  | { readonly kind: "not-a-flag"; readonly reason: string }
  | { readonly kind: "failed"; readonly message: string }
  | { readonly kind: "cancelled"; readonly by: string; readonly reason: string };

export interface RestoreReport {
  /** Items set back to how they were when the bisection started. */
  readonly restored: readonly string[];
  /** Items someone else changed meanwhile, left as they set them, or that could not be restored. */
  readonly left: readonly { readonly item: string; readonly why: string }[];
}

/** A bisection, as stored and as the API shows it (without `internal`). */
export interface BisectRecord {
  id: number;
  /** The environment whose history is searched. */
  source: string;
  /** The environment changed while it runs (the source, unless run --on another). */
  target: string;
  status: BisectStatus;
  actor: string;
  reason: string | null;
  since: string;
  check: string;
  settleMs: number;
  startedAt: string;
  finishedAt: string | null;
  changes: BisectChange[];
  maxChecks: number;
  steps: BisectStepRecord[];
  result: BisectResult | null;
  restore: RestoreReport | null;
  internal: {
    role: Role;
    parsedCheck: BisectCheck;
    /** The window items' projections in the target when it started: what is restored. */
    original: Record<string, ItemProjection>;
    /** What the last committed change of the bisection left them as. */
    applied: Record<string, ItemProjection>;
    /** What the change being made will leave them as (written before it is made). */
    pending: Record<string, ItemProjection> | null;
  };
}

/** Bisections in the database, each one JSON record, rewritten before every change it makes. */
export class BisectStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(record: Omit<BisectRecord, "id">): Promise<BisectRecord> {
    const row = await this.#db
      .insertInto("flag_bisects")
      .values({
        target: record.target,
        status: record.status,
        started_at: record.startedAt,
        finished_at: record.finishedAt,
        record: "{}",
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const stored = { ...record, id: Number(row.id) };
    await this.save(stored);
    return stored;
  }

  async save(record: BisectRecord): Promise<void> {
    await this.#db
      .updateTable("flag_bisects")
      .set({
        status: record.status,
        finished_at: record.finishedAt,
        record: JSON.stringify(record),
      })
      .where("id", "=", record.id)
      .execute();
  }

  async get(id: number): Promise<BisectRecord | undefined> {
    const row = await this.#db
      .selectFrom("flag_bisects")
      .select("record")
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? (JSON.parse(row.record) as BisectRecord) : undefined;
  }

  async list(limit = 50): Promise<BisectRecord[]> {
    const rows = await this.#db
      .selectFrom("flag_bisects")
      .select("record")
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map((r) => JSON.parse(r.record) as BisectRecord);
  }

  async running(): Promise<BisectRecord[]> {
    const rows = await this.#db
      .selectFrom("flag_bisects")
      .select("record")
      .where("status", "=", "running")
      .orderBy("id")
      .execute();
    return rows.map((r) => JSON.parse(r.record) as BisectRecord);
  }
}

/** A record as the API shows it: without what is kept for restoring. */
export function publicRecord(record: BisectRecord): Omit<BisectRecord, "internal"> {
  const { internal: _, ...rest } = record;
  return rest;
}
