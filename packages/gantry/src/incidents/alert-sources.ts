import { z } from "zod";
import type { AuditEvent } from "../audit/index.ts";
import { type ExperimentAlertSpec, formatDuration } from "../config/index.ts";
import type { SloStatus } from "../slo/index.ts";
import { type AlertInput, type Severity, severities } from "./incident-model.ts";

/**
 * Alerts from SLO evaluations: one alert per SLO and severity (page → high, ticket → medium),
 * firing while any of its rules of that severity fires; both share the dedup key `slo/NAME`,
 * so they are one incident.
 */
export function sloAlerts(statuses: readonly SloStatus[]): AlertInput[] {
  const out: AlertInput[] = [];
  for (const s of statuses) {
    for (const level of ["page", "ticket"] as const) {
      const burning = s.burnRates.rules.filter((r) => r.firing && r.rule.severity === level);
      const over = s.thresholds.filter((t) => t.firing && t.rule.severity === level);
      const firing = burning.length > 0 || over.length > 0;
      const reasons = [
        ...burning.map(
          (r) =>
            `burning ${r.longBurnRate.toFixed(1)}x over ${formatDuration(r.rule.longWindow)}${r.rule.shortWindow > 0 ? ` and ${r.shortBurnRate.toFixed(1)}x over ${formatDuration(r.rule.shortWindow)}` : ""} (above ${r.rule.burnRate}x)`,
        ),
        ...over.map(
          (t) =>
            `${((t.badRatio ?? 0) * 100).toFixed(2)}% bad over ${formatDuration(t.rule.window)} (above ${(t.rule.maxBadRatio * 100).toFixed(2)}%)`,
        ),
      ];
      out.push({
        source: "slo",
        key: `slo/${s.name}/${level}`,
        dedupKey: `slo/${s.name}`,
        status: firing ? "firing" : "resolved",
        severity: level === "page" ? "high" : "medium",
        summary: `SLO ${s.name} of ${s.spec.service}: ${reasons.join("; ") || "error budget burn"}`,
        service: s.spec.service,
        details: {
          slo: s.name,
          objective: s.spec.objective,
          budgetRemaining: s.budget.remaining,
          sli: s.budget.sli,
        },
      });
    }
  }
  return out;
}

/**
 * A Scientist experiment whose latest runs mismatch more often than its rule allows is an
 * alert (firing); once they do not, or before there are `minRuns` of them, it is resolved.
 */
export function experimentAlert(
  name: string,
  rule: ExperimentAlertSpec,
  recent: { runs: number; mismatched: number },
): AlertInput {
  const rate = recent.runs > 0 ? recent.mismatched / recent.runs : 0;
  const firing = recent.runs >= rule.minRuns && rate > rule.maxMismatchRate;
  return {
    source: "experiment",
    key: `experiment/${name}`,
    dedupKey: `experiment/${name}`,
    status: firing ? "firing" : "resolved",
    severity: rule.severity,
    summary: `experiment ${name}: ${recent.mismatched} of the last ${recent.runs} runs mismatched (${(rate * 100).toFixed(2)}%, above ${(rule.maxMismatchRate * 100).toFixed(2)}%)`,
    service: rule.service ?? null,
    details: { experiment: name, runs: recent.runs, mismatched: recent.mismatched, mismatchRate: rate },
  };
}

/** A failed rollout is an alert on its service until a later rollout of it succeeds. */
export function rolloutAlert(event: AuditEvent): AlertInput | undefined {
  if (!event.service) return undefined;
  const d = event.data as Record<string, unknown>;
  const base = {
    source: "rollout" as const,
    key: `rollout/${event.service}`,
    dedupKey: `rollout/${event.service}`,
    service: event.service,
  };
  if (event.action === "rollout.failed")
    return {
      ...base,
      status: "firing",
      severity: "medium",
      summary: `${d.kind === "rollback" ? "rollback" : "deploy"} of ${event.service} ${String(d.to)} failed: ${event.reason ?? "see gantry status"}`,
      details: { rollout: d.rollout, from: d.from, to: d.to },
    };
  if (event.action === "rollout.succeeded")
    return {
      ...base,
      status: "resolved",
      severity: "medium",
      summary: `${event.service} ${String(d.to)} rolled out`,
      details: {},
    };
  return undefined;
}

const severity = z.enum(severities);

/** POST /api/v1/alerts: an alert in Gantry's own terms. */
export const alertBody = z
  .object({
    /** The condition's identity; the dedup key when left out. */
    key: z.string().min(1).max(500).optional(),
    dedupKey: z.string().min(1).max(500),
    status: z.enum(["firing", "resolved"]).default("firing"),
    severity: severity.default("high"),
    summary: z.string().min(1).max(1000),
    service: z.string().max(63).optional(),
    details: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export function fromAlertBody(body: z.output<typeof alertBody>, source: "api" | "webhook"): AlertInput {
  return {
    source,
    key: `${source}/${body.key ?? body.dedupKey}`,
    dedupKey: body.dedupKey,
    status: body.status,
    severity: body.severity,
    summary: body.summary,
    service: body.service ?? null,
    details: body.details,
  };
}

const actions: Record<string, "firing" | "resolved"> = {
  trigger: "firing",
  firing: "firing",
  triggered: "firing",
  problem: "firing",
  resolve: "resolved",
  resolved: "resolved",
  ok: "resolved",
};

/**
 * The generic webhook: what monitoring tools send without a template of Gantry's, in snake or
 * camel case: a dedup key, a title or summary, a status or event_action (trigger/resolve), a
 * severity (critical, high, medium, low; also error → high, warning → medium, info → low).
 */
export const webhookBody = z
  .object({
    dedup_key: z.string().min(1).max(500).optional(),
    dedupKey: z.string().min(1).max(500).optional(),
    summary: z.string().min(1).max(1000).optional(),
    title: z.string().min(1).max(1000).optional(),
    status: z.string().optional(),
    event_action: z.string().optional(),
    severity: z.string().optional(),
    service: z.string().max(63).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()
  .superRefine((b, ctx) => {
    if (!b.dedup_key && !b.dedupKey)
      ctx.addIssue({
        code: "custom",
        path: ["dedup_key"],
        message: "give dedup_key: alerts with the same key are one incident",
      });
    if (!b.summary && !b.title)
      ctx.addIssue({ code: "custom", path: ["summary"], message: "give summary (or title)" });
    const action = (b.event_action ?? b.status ?? "trigger").toLowerCase();
    if (!(action in actions))
      ctx.addIssue({
        code: "custom",
        path: [b.event_action ? "event_action" : "status"],
        message: `"${action}" is not an action; write trigger (or firing) or resolve (or resolved)`,
      });
    if (b.severity !== undefined && !webhookSeverity(b.severity))
      ctx.addIssue({
        code: "custom",
        path: ["severity"],
        message: "write critical, high, medium or low (or error, warning, info)",
      });
  });

function webhookSeverity(s: string): Severity | undefined {
  const v = s.toLowerCase();
  if ((severities as readonly string[]).includes(v)) return v as Severity;
  return ({ error: "high", warning: "medium", info: "low", page: "high", ticket: "medium" } as const)[
    v as "error"
  ];
}

export function fromWebhook(b: z.output<typeof webhookBody>): AlertInput {
  const dedupKey = (b.dedup_key ?? b.dedupKey)!;
  const {
    dedup_key: _a,
    dedupKey: _b,
    summary,
    title,
    status,
    event_action,
    severity: s,
    service,
    details,
    ...rest
  } = b;
  return {
    source: "webhook",
    key: `webhook/${dedupKey}`,
    dedupKey,
    status: actions[(event_action ?? status ?? "trigger").toLowerCase()]!,
    severity: s ? webhookSeverity(s)! : "high",
    summary: (summary ?? title)!,
    service: service ?? null,
    details: { ...rest, ...details },
  };
}
