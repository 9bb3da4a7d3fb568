import type { Kysely } from "kysely";
import type { Database } from "../store/index.ts";

export interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  service: string | null;
  subject: string | null;
  reason: string | null;
  data: Record<string, unknown>;
}

export type NewAuditEvent = Omit<AuditEvent, "id" | "at" | "service" | "subject" | "reason" | "data"> &
  Partial<Pick<AuditEvent, "service" | "subject" | "reason" | "data">>;

export interface AuditQuery {
  service?: string | undefined;
  since?: Date | undefined;
  action?: string | undefined;
  /** Exactly this subject (`flag/checkout`). */
  subject?: string | undefined;
  /** Subjects starting with this (`flag/`). */
  subjectPrefix?: string | undefined;
  limit?: number | undefined;
}

/** The append-only trail of every change: who did what, to which service, when and why. */
export class AuditLog {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;

  readonly #listeners: ((event: AuditEvent) => void)[] = [];

  constructor(db: Kysely<Database>, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  /** Called after each event is stored (e.g. to print it on the console of `gantry up`). */
  onRecord(listener: (event: AuditEvent) => void): void {
    this.#listeners.push(listener);
  }

  async record(event: NewAuditEvent): Promise<AuditEvent> {
    const stored = await this.recordIn(this.#db, event);
    this.announce(stored);
    return stored;
  }

  /**
   * Stores an event inside the caller's transaction, so a change and its audit event are
   * committed together; call `announce` with it once the transaction has committed.
   */
  async recordIn(db: Kysely<Database>, event: NewAuditEvent): Promise<AuditEvent> {
    const row = {
      at: this.#now().toISOString(),
      actor: event.actor,
      action: event.action,
      service: event.service ?? null,
      subject: event.subject ?? null,
      reason: event.reason ?? null,
      data: JSON.stringify(event.data ?? {}),
    };
    const { id } = await db.insertInto("audit_events").values(row).returning("id").executeTakeFirstOrThrow();
    return { ...row, id: Number(id), data: event.data ?? {} };
  }

  /** Tells the listeners about events stored with `recordIn`. */
  announce(...events: AuditEvent[]): void {
    for (const event of events) for (const listener of this.#listeners) listener(event);
  }

  async query(query: AuditQuery = {}): Promise<AuditEvent[]> {
    let q = this.#db.selectFrom("audit_events").selectAll();
    if (query.service) q = q.where("service", "=", query.service);
    if (query.since) q = q.where("at", ">=", query.since.toISOString());
    if (query.action) q = q.where("action", "=", query.action);
    if (query.subject) q = q.where("subject", "=", query.subject);
    if (query.subjectPrefix)
      q = q.where("subject", ">=", query.subjectPrefix).where("subject", "<", `${query.subjectPrefix}\uffff`);
    const rows = await q
      .orderBy("id", "desc")
      .limit(query.limit ?? 1000)
      .execute();
    return rows.reverse().map((r) => ({ ...r, id: Number(r.id), data: JSON.parse(r.data) }));
  }
}
