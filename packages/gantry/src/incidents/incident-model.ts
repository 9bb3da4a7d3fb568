import { z } from "zod";

export const severities = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof severities)[number];

/** Severities whose incidents page people and need a postmortem to close. */
export function isHighSeverity(s: Severity): boolean {
  return s === "critical" || s === "high";
}

export function moreSevere(a: Severity, b: Severity): Severity {
  return severities.indexOf(a) <= severities.indexOf(b) ? a : b;
}

export const incidentStatuses = ["triggered", "acknowledged", "mitigated", "resolved"] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

export type AlertSource = "slo" | "rollout" | "api" | "webhook" | "alertmanager" | "experiment";

/** An alert as a source reports it: firing or resolved, grouped into an incident by its dedup key. */
export interface AlertInput {
  source: AlertSource;
  /** Identifies the condition: a later report with the same key updates or resolves it. */
  key: string;
  /** Alerts with the same dedup key while an incident is open join that incident. */
  dedupKey: string;
  status: "firing" | "resolved";
  severity: Severity;
  summary: string;
  service: string | null;
  details: Record<string, unknown>;
  /** When the condition started, if the source knows (Alertmanager's startsAt). */
  startedAt?: string | undefined;
}

export interface Alert {
  id: number;
  key: string;
  dedupKey: string;
  incidentId: number;
  source: AlertSource;
  service: string | null;
  severity: Severity;
  summary: string;
  details: Record<string, unknown>;
  status: "firing" | "resolved";
  firstAt: string;
  lastAt: string;
  resolvedAt: string | null;
}

export interface Incident {
  id: number;
  title: string;
  service: string | null;
  severity: Severity;
  status: IncidentStatus;
  dedupKey: string;
  source: AlertSource;
  createdAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  mitigatedAt: string | null;
  mitigatedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  postmortem: Postmortem | null;
  postmortemAt: string | null;
  /** High severity, resolved or not, and no postmortem yet. */
  postmortemDue: boolean;
  /** Resolved, and its postmortem written if its severity needs one. */
  closed: boolean;
}

export type TimelineKind =
  | "alert.fired"
  | "alert.resolved"
  | "status"
  | "note"
  | "change"
  | "page"
  | "postmortem";

export interface TimelineEntry {
  id: number;
  incidentId: number;
  at: string;
  kind: TimelineKind;
  actor: string;
  text: string;
  data: Record<string, unknown>;
}

const text = (max: number) => z.string().trim().min(1, "must not be empty").max(max);

/** A blameless postmortem: required to close a critical or high-severity incident. */
export const postmortemSpec = z
  .object({
    summary: text(5000),
    impact: text(5000),
    rootCause: text(5000),
    trigger: text(5000),
    resolution: text(5000),
    detection: text(5000),
    actionItems: z
      .array(
        z
          .object({
            description: text(1000),
            owner: text(200),
            due: z.iso.date({ error: "due is a date such as 2026-12-31" }).optional(),
            done: z.boolean().default(false),
          })
          .strict(),
      )
      .min(1, "list at least one action item with its owner: what keeps this from happening again"),
    lessons: text(5000),
  })
  .strict();
export type Postmortem = z.output<typeof postmortemSpec>;
