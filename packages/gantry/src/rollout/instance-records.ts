import type { Kysely } from "kysely";
import type { Database } from "../store/index.ts";

/** starting: spawned, not yet healthy · ready: passed its health check · draining: leaving · failed/stopped: gone */
export type InstanceRecordState = "starting" | "ready" | "failed" | "draining" | "stopped";

export interface InstanceRecord {
  id: string;
  service: string;
  version: string;
  port: number;
  state: InstanceRecordState;
  createdAt: string;
  updatedAt: string;
}

const alive: InstanceRecordState[] = ["starting", "ready", "draining"];

/** The control plane's record of the instances it started, kept in the store. */
export class InstanceRecords {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, now: () => Date) {
    this.#db = db;
    this.#now = now;
  }

  async add(record: Pick<InstanceRecord, "id" | "service" | "version" | "port">): Promise<InstanceRecord> {
    const now = this.#now().toISOString();
    const row = { ...record, state: "starting" as const, created_at: now, updated_at: now };
    await this.#db.insertInto("instances").values(row).execute();
    return { ...record, state: "starting", createdAt: now, updatedAt: now };
  }

  async setState(id: string, state: InstanceRecordState): Promise<void> {
    await this.#db
      .updateTable("instances")
      .set({ state, updated_at: this.#now().toISOString() })
      .where("id", "=", id)
      .execute();
  }

  /** Instances that should exist now (starting, ready or draining), oldest first. */
  async alive(service?: string): Promise<InstanceRecord[]> {
    let q = this.#db.selectFrom("instances").selectAll().where("state", "in", alive);
    if (service) q = q.where("service", "=", service);
    return (await q.orderBy("created_at").orderBy("id").execute()).map(toRecord);
  }

  async get(id: string): Promise<InstanceRecord | undefined> {
    const row = await this.#db.selectFrom("instances").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async ofVersion(service: string, version: string): Promise<InstanceRecord[]> {
    const rows = await this.#db
      .selectFrom("instances")
      .selectAll()
      .where("service", "=", service)
      .where("version", "=", version)
      .orderBy("created_at", "desc")
      .limit(50)
      .execute();
    return rows.map(toRecord);
  }

  /** Forgets stopped instances beyond the newest `keep`, so the table stays small. */
  async prune(keep = 500): Promise<void> {
    const cutoff = await this.#db
      .selectFrom("instances")
      .select("updated_at")
      .where("state", "in", ["stopped", "failed"])
      .orderBy("updated_at", "desc")
      .offset(keep)
      .limit(1)
      .executeTakeFirst();
    if (cutoff) {
      await this.#db
        .deleteFrom("instances")
        .where("state", "in", ["stopped", "failed"])
        .where("updated_at", "<=", cutoff.updated_at)
        .execute();
    }
  }
}

function toRecord(row: Database["instances"]): InstanceRecord {
  return {
    id: row.id,
    service: row.service,
    version: row.version,
    port: row.port,
    state: row.state as InstanceRecordState,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
