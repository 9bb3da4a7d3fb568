import type { Logger } from "pino";
import type { AuditEvent, AuditLog } from "../audit/index.ts";
import { formatDuration } from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import {
  type Alert,
  type AlertInput,
  type Incident,
  type IncidentStatus,
  moreSevere,
  type Postmortem,
  type TimelineEntry,
} from "./incident-model.ts";
import type { IncidentQuery, IncidentStore } from "./incident-store.ts";

/** What happened to an incident, for listeners such as the pager. */
export interface IncidentChange {
  type: "triggered" | "acknowledged" | "mitigated" | "resolved" | "escalated-severity" | "postmortem";
  incident: Incident;
  actor: string;
}

export interface IngestResult {
  /** The incident the alert belongs to; null for a resolution of an alert that was not firing. */
  incident: Incident | null;
  alert: Alert | null;
  /** Whether this alert opened a new incident. */
  created: boolean;
}

export interface IncidentDetail {
  incident: Incident;
  alerts: Alert[];
  timeline: TimelineEntry[];
}

/** Audit actions that are changes worth seeing on an incident's timeline. */
const changeActions = [
  "rollout.started",
  "rollout.succeeded",
  "rollout.failed",
  "rollout.rolled_back",
  "rollout.promoted",
  "rollback.",
  "deploy.",
  "release.created",
  "flag.",
  "flag-schedule.applied",
  "mode.",
  "breaker.",
  "service.locked",
  "service.unlocked",
  "service.declared",
  "freeze.",
  "chaos.",
];

export function isChange(action: string): boolean {
  return changeActions.some((a) => (a.endsWith(".") ? action.startsWith(a) : action === a));
}

/** One line for a change on a timeline: what, to what, by whom, why. */
export function describeChange(e: AuditEvent): string {
  const d = e.data as Record<string, unknown>;
  const what =
    e.action.startsWith("rollout.") && d.to !== undefined
      ? `${e.action} ${e.service ?? ""} ${d.from ?? "(none)"} → ${d.to}`
      : e.action === "mode.changed"
        ? `mode of ${e.service} → ${String(d.mode)}`
        : `${e.action} ${e.subject ?? e.service ?? ""}`;
  return `${what.replace(/\s+/g, " ").trim()} by ${e.actor}${e.reason ? ` — ${e.reason}` : ""}`;
}

export interface IncidentServiceDeps {
  store: IncidentStore;
  audit: AuditLog;
  now: () => Date;
  /** How far before an incident's start changes are put on its timeline. */
  changesBefore: number;
  log?: Logger;
}

/**
 * Alerts in, incidents out: groups alerts by dedup key into incidents, runs their lifecycle
 * (triggered → acknowledged → mitigated → resolved), keeps the timeline (alerts, transitions,
 * notes, pages, and the changes from the audit trail around the start), and holds high
 * severities open for a postmortem. Every change is serialised, so two alerts with one dedup
 * key never open two incidents.
 */
export class IncidentService {
  readonly #d: IncidentServiceDeps;
  readonly #listeners: ((change: IncidentChange) => void | Promise<void>)[] = [];
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: IncidentServiceDeps) {
    this.#d = deps;
  }

  onChange(listener: (change: IncidentChange) => void | Promise<void>): void {
    this.#listeners.push(listener);
  }

  /** Puts every change recorded from now on onto the timelines of the open incidents it concerns. */
  watchChanges(): void {
    this.#d.audit.onRecord((event) => {
      if (!isChange(event.action)) return;
      void this.#serial(async () => {
        for (const incident of await this.#d.store.openIncidents()) {
          if (!concerns(incident, event)) continue;
          await this.#d.store.addEntry(this.#d.store.db, {
            incidentId: incident.id,
            at: event.at,
            kind: "change",
            actor: event.actor,
            text: describeChange(event),
            data: { auditId: event.id, action: event.action },
          });
        }
      }).catch((err) => this.#d.log?.error({ err }, "could not add a change to an incident timeline"));
    });
  }

  /** A source reports an alert firing or resolved. */
  ingest(a: AlertInput): Promise<IngestResult> {
    return this.#serial(() => (a.status === "firing" ? this.#fire(a) : this.#resolveAlert(a)));
  }

  async #fire(a: AlertInput): Promise<IngestResult> {
    const at = this.#d.now().toISOString();
    const changes: IncidentChange[] = [];
    // Read before the transaction: SQLite has one connection, which the transaction holds.
    const prior = await this.#d.audit.query({
      since: new Date(Date.parse(at) - this.#d.changesBefore),
      limit: 500,
    });
    const result = await this.#d.store.db.transaction().execute(async (tx) => {
      const existing = await this.#d.store.firingAlert(tx, a.key);
      if (existing) {
        await this.#d.store.touchAlert(tx, existing.id, a, at);
        const incident = (await this.#d.store.incident(existing.incidentId, tx))!;
        if (
          incident.status !== "resolved" &&
          moreSevere(a.severity, incident.severity) !== incident.severity
        ) {
          await this.#raise(tx, incident, a, at);
          changes.push({
            type: "escalated-severity",
            incident: (await this.#d.store.incident(incident.id, tx))!,
            actor: a.source,
          });
        }
        return {
          incident: (await this.#d.store.incident(incident.id, tx))!,
          alert: existing,
          created: false,
        };
      }
      let incident = await this.#d.store.openIncidentByDedupKey(tx, a.dedupKey);
      const created = !incident;
      if (!incident) {
        incident = await this.#d.store.insertIncident(tx, a, at);
        await this.#d.store.addEntry(tx, {
          incidentId: incident.id,
          at,
          kind: "status",
          actor: a.source,
          text: `triggered (${a.severity}): ${a.summary}`,
          data: { status: "triggered" },
        });
        await this.#priorChanges(tx, incident, prior);
      } else if (moreSevere(a.severity, incident.severity) !== incident.severity) {
        await this.#raise(tx, incident, a, at);
        changes.push({ type: "escalated-severity", incident, actor: a.source });
      }
      const alert = await this.#d.store.insertAlert(tx, a, incident.id, at);
      await this.#d.store.addEntry(tx, {
        incidentId: incident.id,
        at,
        kind: "alert.fired",
        actor: a.source,
        text: `${a.summary} [${a.severity}, ${a.key}]`,
        data: {
          alertId: alert.id,
          key: a.key,
          details: a.details,
          ...(a.startedAt && { startedAt: a.startedAt }),
        },
      });
      incident = (await this.#d.store.incident(incident.id, tx))!;
      if (created) changes.unshift({ type: "triggered", incident, actor: a.source });
      return { incident, alert, created };
    });
    if (result.created)
      await this.#d.audit.record({
        actor: a.source,
        action: "incident.triggered",
        service: a.service,
        subject: `incident/${result.incident.id}`,
        reason: a.summary,
        data: { severity: a.severity, dedupKey: a.dedupKey, alertKey: a.key },
      });
    await this.#announce(changes);
    return result;
  }

  async #raise(tx: IncidentStore["db"], incident: Incident, a: AlertInput, at: string): Promise<void> {
    await this.#d.store.setSeverity(tx, incident.id, a.severity, at);
    await this.#d.store.addEntry(tx, {
      incidentId: incident.id,
      at,
      kind: "status",
      actor: a.source,
      text: `severity ${incident.severity} → ${a.severity}: ${a.summary}`,
      data: { severity: a.severity },
    });
  }

  async #resolveAlert(a: AlertInput): Promise<IngestResult> {
    const at = this.#d.now().toISOString();
    const changes: IncidentChange[] = [];
    const result = await this.#d.store.db.transaction().execute(async (tx) => {
      const alert = await this.#d.store.firingAlert(tx, a.key);
      if (!alert) return { incident: null, alert: null, created: false };
      await this.#d.store.resolveAlert(tx, alert.id, at);
      await this.#d.store.addEntry(tx, {
        incidentId: alert.incidentId,
        at,
        kind: "alert.resolved",
        actor: a.source,
        text: `resolved: ${alert.summary} [${alert.key}]`,
        data: { alertId: alert.id, key: alert.key },
      });
      let incident = (await this.#d.store.incident(alert.incidentId, tx))!;
      const stillFiring = (await this.#d.store.alertsOf(incident.id, tx)).some((x) => x.status === "firing");
      if (!stillFiring && incident.status !== "resolved") {
        await this.#transition(
          tx,
          incident,
          "resolved",
          a.source,
          "every alert of the incident resolved",
          at,
        );
        incident = (await this.#d.store.incident(incident.id, tx))!;
        changes.push({ type: "resolved", incident, actor: a.source });
      }
      return { incident, alert: { ...alert, status: "resolved" as const, resolvedAt: at }, created: false };
    });
    for (const c of changes)
      await this.#auditTransition(c.incident, "resolved", c.actor, "every alert of the incident resolved");
    await this.#announce(changes);
    return result;
  }

  acknowledge(id: number, actor: string, reason?: string): Promise<Incident> {
    return this.#manual(id, "acknowledged", actor, reason, ["triggered"]);
  }

  mitigate(id: number, actor: string, reason?: string): Promise<Incident> {
    return this.#manual(id, "mitigated", actor, reason, ["triggered", "acknowledged"]);
  }

  resolve(id: number, actor: string, reason?: string): Promise<Incident> {
    return this.#manual(id, "resolved", actor, reason, ["triggered", "acknowledged", "mitigated"]);
  }

  #manual(
    id: number,
    to: IncidentStatus,
    actor: string,
    reason: string | undefined,
    from: IncidentStatus[],
  ): Promise<Incident> {
    return this.#serial(async () => {
      const at = this.#d.now().toISOString();
      const incident = await this.#d.store.db.transaction().execute(async (tx) => {
        const current = await this.#d.store.incident(id, tx);
        if (!current) throw notFound(id);
        if (!from.includes(current.status))
          throw new GantryError(
            "CONFLICT",
            `incident ${id} is ${current.status}${by(current)}; it can be ${to} only while ${from.join(" or ")}`,
            { field: "status" },
          );
        await this.#transition(tx, current, to, actor, reason, at);
        if (to === "resolved") {
          // The alerts go with it: a condition still there fires anew and opens a new incident.
          for (const alert of await this.#d.store.alertsOf(id, tx))
            if (alert.status === "firing") await this.#d.store.resolveAlert(tx, alert.id, at);
        }
        return (await this.#d.store.incident(id, tx))!;
      });
      await this.#auditTransition(incident, to, actor, reason);
      await this.#announce([{ type: to as IncidentChange["type"], incident, actor }]);
      return incident;
    });
  }

  async #transition(
    tx: IncidentStore["db"],
    incident: Incident,
    to: IncidentStatus,
    actor: string,
    reason: string | undefined,
    at: string,
  ): Promise<void> {
    await this.#d.store.setStatus(tx, incident.id, to, actor, at);
    const took = formatDuration(Math.max(0, Date.parse(at) - Date.parse(incident.createdAt)));
    await this.#d.store.addEntry(tx, {
      incidentId: incident.id,
      at,
      kind: "status",
      actor,
      text: `${to} by ${actor} after ${took}${reason ? ` — ${reason}` : ""}`,
      data: { status: to },
    });
  }

  async #auditTransition(
    incident: Incident,
    to: IncidentStatus,
    actor: string,
    reason?: string,
  ): Promise<void> {
    await this.#d.audit.record({
      actor,
      action: `incident.${to}`,
      service: incident.service,
      subject: `incident/${incident.id}`,
      reason: reason ?? null,
      data: { severity: incident.severity, title: incident.title },
    });
  }

  note(id: number, actor: string, text: string): Promise<TimelineEntry> {
    return this.#serial(async () => {
      if (!(await this.#d.store.incident(id))) throw notFound(id);
      const at = this.#d.now().toISOString();
      await this.#d.store.addEntry(this.#d.store.db, { incidentId: id, at, kind: "note", actor, text });
      return (await this.#d.store.timeline(id)).filter((e) => e.kind === "note").at(-1)!;
    });
  }

  /** Adds a line to a timeline (pages and their outcomes, from the pager). */
  async log(id: number, entry: Pick<TimelineEntry, "kind" | "actor" | "text" | "data">): Promise<void> {
    await this.#d.store.addEntry(this.#d.store.db, {
      incidentId: id,
      at: this.#d.now().toISOString(),
      ...entry,
    });
  }

  writePostmortem(id: number, actor: string, postmortem: Postmortem): Promise<Incident> {
    return this.#serial(async () => {
      const at = this.#d.now().toISOString();
      const incident = await this.#d.store.db.transaction().execute(async (tx) => {
        const current = await this.#d.store.incident(id, tx);
        if (!current) throw notFound(id);
        await this.#d.store.setPostmortem(tx, id, postmortem, at);
        await this.#d.store.addEntry(tx, {
          incidentId: id,
          at,
          kind: "postmortem",
          actor,
          text: `postmortem ${current.postmortem ? "revised" : "written"}: ${postmortem.summary.slice(0, 200)}`,
        });
        return (await this.#d.store.incident(id, tx))!;
      });
      await this.#d.audit.record({
        actor,
        action: "incident.postmortem",
        service: incident.service,
        subject: `incident/${id}`,
        data: { actionItems: postmortem.actionItems.length },
      });
      await this.#announce([{ type: "postmortem", incident, actor }]);
      return incident;
    });
  }

  async get(id: number): Promise<IncidentDetail> {
    const incident = await this.#d.store.incident(id);
    if (!incident) throw notFound(id);
    return { incident, alerts: await this.#d.store.alertsOf(id), timeline: await this.#d.store.timeline(id) };
  }

  list(query: IncidentQuery): Promise<Incident[]> {
    return this.#d.store.list(query);
  }

  firingAlerts(source?: Alert["source"]): Promise<Alert[]> {
    return this.#d.store.firingAlerts(source);
  }

  /** Waits for every queued change (tests and shutdown). */
  async settled(): Promise<void> {
    await this.#queue.catch(() => undefined);
  }

  async #priorChanges(tx: IncidentStore["db"], incident: Incident, events: AuditEvent[]): Promise<void> {
    for (const e of events) {
      if (!isChange(e.action) || !concerns(incident, e)) continue;
      await this.#d.store.addEntry(tx, {
        incidentId: incident.id,
        at: e.at,
        kind: "change",
        actor: e.actor,
        text: describeChange(e),
        data: { auditId: e.id, action: e.action },
      });
    }
  }

  async #announce(changes: IncidentChange[]): Promise<void> {
    for (const change of changes)
      for (const listener of this.#listeners) {
        try {
          await listener(change);
        } catch (err) {
          this.#d.log?.error({ err, incident: change.incident.id }, "incident listener failed");
        }
      }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/** Whether a change concerns an incident: same service, or either has none. */
function concerns(incident: Incident, e: AuditEvent): boolean {
  return incident.service === null || e.service === null || e.service === incident.service;
}

function by(i: Incident): string {
  if (i.status === "acknowledged") return ` (by ${i.acknowledgedBy} at ${i.acknowledgedAt})`;
  if (i.status === "mitigated") return ` (by ${i.mitigatedBy} at ${i.mitigatedAt})`;
  if (i.status === "resolved") return ` (by ${i.resolvedBy} at ${i.resolvedAt})`;
  return "";
}

function notFound(id: number): GantryError {
  return new GantryError("NOT_FOUND", `no incident ${id}; \`gantry incidents list --all\` shows them`, {
    field: "incident",
  });
}
