import { z } from "zod";
import type { AlertInput, Severity } from "./incident-model.ts";

/**
 * Alertmanager's webhook payload, version 4
 * (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
 */
export const alertmanagerPayload = z
  .object({
    version: z.literal("4", { error: 'Gantry reads Alertmanager webhook payloads of version "4"' }),
    groupKey: z.string(),
    truncatedAlerts: z.number().int().min(0).default(0),
    status: z.enum(["firing", "resolved"]),
    receiver: z.string(),
    groupLabels: z.record(z.string(), z.string()).default({}),
    commonLabels: z.record(z.string(), z.string()).default({}),
    commonAnnotations: z.record(z.string(), z.string()).default({}),
    externalURL: z.string().default(""),
    alerts: z.array(
      z
        .object({
          status: z.enum(["firing", "resolved"]),
          labels: z.record(z.string(), z.string()),
          annotations: z.record(z.string(), z.string()).default({}),
          startsAt: z.string(),
          endsAt: z.string().optional(),
          generatorURL: z.string().default(""),
          fingerprint: z.string().min(1),
        })
        .passthrough(),
    ),
  })
  .passthrough();
export type AlertmanagerPayload = z.output<typeof alertmanagerPayload>;

const severityLabel: Record<string, Severity> = {
  critical: "critical",
  page: "high",
  high: "high",
  error: "high",
  warning: "medium",
  ticket: "medium",
  medium: "medium",
  info: "low",
  low: "low",
  none: "low",
};

/**
 * One Gantry alert per Alertmanager alert (its fingerprint is the key); the alerts of one
 * Alertmanager group (its groupKey) are one incident. The `severity` label maps to a severity
 * (critical; page/high/error → high; warning/ticket/medium → medium; info/low/none → low;
 * high when missing), the `service` label to the service.
 */
export function fromAlertmanager(payload: AlertmanagerPayload): AlertInput[] {
  return payload.alerts.map((a) => {
    const name = a.labels.alertname ?? "alert";
    const summary = a.annotations.summary ?? a.annotations.description ?? `${name} ${labelText(a.labels)}`;
    return {
      source: "alertmanager",
      key: `alertmanager/${a.fingerprint}`,
      dedupKey: `alertmanager/${payload.receiver}/${payload.groupKey}`,
      status: a.status,
      severity: severityLabel[(a.labels.severity ?? "").toLowerCase()] ?? "high",
      summary: `${name}: ${summary}`.slice(0, 1000),
      service: a.labels.service ?? null,
      details: {
        labels: a.labels,
        annotations: a.annotations,
        generatorURL: a.generatorURL,
        externalURL: payload.externalURL,
        ...(payload.truncatedAlerts > 0 && { truncatedAlerts: payload.truncatedAlerts }),
      },
      startedAt: a.startsAt,
    };
  });
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .filter(([k]) => k !== "alertname")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}
