import type { Kysely, Selectable } from "kysely";
import type { AlertsTable, Database, IncidentsTable } from "../store/index.ts";
import {
  type Alert,
  type AlertInput,
  type AlertSource,
  type Incident,
  type IncidentStatus,
  isHighSeverity,
  type Postmortem,
  type Severity,
  type TimelineEntry,
  type TimelineKind,
} from "./incident-model.ts";

export interface IncidentQuery {
  /** open: not resolved; unclosed: open or awaiting a postmortem (the default); all. */
  state?: "open" | "unclosed" | "resolved" | "all" | undefined;
  service?: string | undefined;
  severity?: Severity | undefined;
  since?: Date | undefined;
  /** Words searched in titles, timelines (notes, alerts, changes, pages) and postmortems. */
  text?: string | undefined;
  limit?: number | undefined;
}

type Db = Kysely<Database>;

/** Incidents, their alerts and timelines in the store. */
export class IncidentStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get db(): Db {
    return this.#db;
  }

  async firingAlert(tx: Db, key: string): Promise<Alert | undefined> {
    const row = await tx
      .selectFrom("alerts")
      .selectAll()
      .where("alert_key", "=", key)
      .where("status", "=", "firing")
      .executeTakeFirst();
    return row ? toAlert(row) : undefined;
  }

  async firingAlerts(source?: AlertSource): Promise<Alert[]> {
    let q = this.#db.selectFrom("alerts").selectAll().where("status", "=", "firing");
    if (source) q = q.where("source", "=", source);
    return (await q.orderBy("id").execute()).map(toAlert);
  }

  async openIncidentByDedupKey(tx: Db, dedupKey: string): Promise<Incident | undefined> {
    const row = await tx
      .selectFrom("incidents")
      .selectAll()
      .where("dedup_key", "=", dedupKey)
      .where("status", "!=", "resolved")
      .orderBy("id", "desc")
      .executeTakeFirst();
    return row ? toIncident(row) : undefined;
  }

  async insertIncident(tx: Db, a: AlertInput, at: string): Promise<Incident> {
    const { id } = await tx
      .insertInto("incidents")
      .values({
        title: a.summary,
        service: a.service,
        severity: a.severity,
        status: "triggered",
        dedup_key: a.dedupKey,
        source: a.source,
        created_at: at,
        updated_at: at,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return (await this.incident(Number(id), tx))!;
  }

  async insertAlert(tx: Db, a: AlertInput, incidentId: number, at: string): Promise<Alert> {
    const { id } = await tx
      .insertInto("alerts")
      .values({
        alert_key: a.key,
        dedup_key: a.dedupKey,
        incident_id: incidentId,
        source: a.source,
        service: a.service,
        severity: a.severity,
        summary: a.summary,
        details: JSON.stringify(a.details),
        status: "firing",
        first_at: at,
        last_at: at,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return toAlert(
      await tx.selectFrom("alerts").selectAll().where("id", "=", Number(id)).executeTakeFirstOrThrow(),
    );
  }

  async touchAlert(tx: Db, id: number, a: AlertInput, at: string): Promise<void> {
    await tx
      .updateTable("alerts")
      .set({ last_at: at, summary: a.summary, severity: a.severity, details: JSON.stringify(a.details) })
      .where("id", "=", id)
      .execute();
  }

  async resolveAlert(tx: Db, id: number, at: string): Promise<void> {
    await tx
      .updateTable("alerts")
      .set({ status: "resolved", resolved_at: at, last_at: at })
      .where("id", "=", id)
      .execute();
  }

  async alertsOf(incidentId: number, tx: Db = this.#db): Promise<Alert[]> {
    const rows = await tx
      .selectFrom("alerts")
      .selectAll()
      .where("incident_id", "=", incidentId)
      .orderBy("id")
      .execute();
    return rows.map(toAlert);
  }

  async incident(id: number, tx: Db = this.#db): Promise<Incident | undefined> {
    const row = await tx.selectFrom("incidents").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toIncident(row) : undefined;
  }

  async setSeverity(tx: Db, id: number, severity: Severity, at: string): Promise<void> {
    await tx.updateTable("incidents").set({ severity, updated_at: at }).where("id", "=", id).execute();
  }

  async setStatus(tx: Db, id: number, status: IncidentStatus, actor: string, at: string): Promise<void> {
    const stamp =
      status === "acknowledged"
        ? { acknowledged_at: at, acknowledged_by: actor }
        : status === "mitigated"
          ? { mitigated_at: at, mitigated_by: actor }
          : status === "resolved"
            ? { resolved_at: at, resolved_by: actor }
            : {};
    await tx
      .updateTable("incidents")
      .set({ status, updated_at: at, ...stamp })
      .where("id", "=", id)
      .execute();
  }

  async setPostmortem(tx: Db, id: number, postmortem: Postmortem, at: string): Promise<void> {
    await tx
      .updateTable("incidents")
      .set({ postmortem: JSON.stringify(postmortem), postmortem_at: at, updated_at: at })
      .where("id", "=", id)
      .execute();
  }

  async addEntry(
    tx: Db,
    entry: {
      incidentId: number;
      at: string;
      kind: TimelineKind;
      actor: string;
      text: string;
      data?: Record<string, unknown>;
    },
  ): Promise<void> {
    await tx
      .insertInto("incident_events")
      .values({
        incident_id: entry.incidentId,
        at: entry.at,
        kind: entry.kind,
        actor: entry.actor,
        text: entry.text,
        data: JSON.stringify(entry.data ?? {}),
      })
      .execute();
  }

  async timeline(incidentId: number): Promise<TimelineEntry[]> {
    const rows = await this.#db
      .selectFrom("incident_events")
      .selectAll()
      .where("incident_id", "=", incidentId)
      .orderBy("at")
      .orderBy("id")
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      incidentId: Number(r.incident_id),
      at: r.at,
      kind: r.kind as TimelineKind,
      actor: r.actor,
      text: r.text,
      data: JSON.parse(r.data),
    }));
  }

  async openIncidents(): Promise<Incident[]> {
    const rows = await this.#db
      .selectFrom("incidents")
      .selectAll()
      .where("status", "!=", "resolved")
      .orderBy("id")
      .execute();
    return rows.map(toIncident);
  }

  async list(query: IncidentQuery): Promise<Incident[]> {
    let q = this.#db.selectFrom("incidents").selectAll();
    const state = query.state ?? "unclosed";
    if (state === "open") q = q.where("status", "!=", "resolved");
    if (state === "resolved") q = q.where("status", "=", "resolved");
    if (state === "unclosed")
      q = q.where((eb) =>
        eb.or([
          eb("status", "!=", "resolved"),
          eb.and([eb("severity", "in", ["critical", "high"]), eb("postmortem", "is", null)]),
        ]),
      );
    if (query.service) q = q.where("service", "=", query.service);
    if (query.severity) q = q.where("severity", "=", query.severity);
    if (query.since) q = q.where("created_at", ">=", query.since.toISOString());
    for (const word of (query.text ?? "").split(/\s+/).filter(Boolean)) {
      const like = `%${word.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) =>
        eb.or([
          eb("title", "like", like),
          eb("postmortem", "like", like),
          eb("id", "in", eb.selectFrom("incident_events").select("incident_id").where("text", "like", like)),
        ]),
      );
    }
    const rows = await q
      .orderBy("id", "desc")
      .limit(query.limit ?? 100)
      .execute();
    return rows.map(toIncident);
  }
}

function toAlert(r: Selectable<AlertsTable>): Alert {
  return {
    id: Number(r.id),
    key: r.alert_key,
    dedupKey: r.dedup_key,
    incidentId: Number(r.incident_id),
    source: r.source as AlertSource,
    service: r.service,
    severity: r.severity as Severity,
    summary: r.summary,
    details: JSON.parse(r.details),
    status: r.status as Alert["status"],
    firstAt: r.first_at,
    lastAt: r.last_at,
    resolvedAt: r.resolved_at,
  };
}

function toIncident(r: Selectable<IncidentsTable>): Incident {
  const severity = r.severity as Severity;
  const postmortem = r.postmortem ? (JSON.parse(r.postmortem) as Postmortem) : null;
  const postmortemDue = isHighSeverity(severity) && postmortem === null;
  return {
    id: Number(r.id),
    title: r.title,
    service: r.service,
    severity,
    status: r.status as IncidentStatus,
    dedupKey: r.dedup_key,
    source: r.source as AlertSource,
    createdAt: r.created_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    mitigatedAt: r.mitigated_at,
    mitigatedBy: r.mitigated_by,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    postmortem,
    postmortemAt: r.postmortem_at,
    postmortemDue,
    closed: r.status === "resolved" && !postmortemDue,
  };
}
