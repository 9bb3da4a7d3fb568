import type { WindowCounts } from "./sli-series.ts";

export type AlertSeverity = "page" | "ticket";

/**
 * Alert when the budget burns faster than `burnRate` times the sustainable rate over both the
 * long window and the short one: the long window says it is significant, the short one that it
 * is still going on (so the alert resets soon after the errors stop).
 */
export interface BurnRateRule {
  severity: AlertSeverity;
  longWindow: number;
  /** 0: the long window alone decides (a single-window rule, as OpenSLO's burnrate condition). */
  shortWindow: number;
  burnRate: number;
  /** How long the condition must hold before the alert fires, ms (OpenSLO's alertAfter); 0 by default. */
  for?: number;
}

const minute = 60_000;
const hour = 60 * minute;

/**
 * The SRE workbook's multiwindow, multi-burn-rate alerts (chapter 5, table 5-8): page at 14.4×
 * over 1 h and 5 m (2% of a 30-day budget spent in an hour) or 6× over 6 h and 30 m (5% in six
 * hours); ticket at 3× over 1 d and 2 h (10% in a day) or 1× over 3 d and 6 h.
 */
export const workbookBurnRateRules: readonly BurnRateRule[] = Object.freeze([
  { severity: "page", longWindow: hour, shortWindow: 5 * minute, burnRate: 14.4 },
  { severity: "page", longWindow: 6 * hour, shortWindow: 30 * minute, burnRate: 6 },
  { severity: "ticket", longWindow: 24 * hour, shortWindow: 2 * hour, burnRate: 3 },
  { severity: "ticket", longWindow: 72 * hour, shortWindow: 6 * hour, burnRate: 1 },
]);

/**
 * How fast the budget burns over (now - window, now]: the bad share of events divided by the
 * share the objective allows. 1 spends the budget exactly over the SLO window; 0 without events.
 */
export function burnRate(series: WindowCounts, objective: number, window: number, now: number): number {
  const { good, total } = series.counts(now - window, now);
  if (total === 0) return 0;
  const badShare = Math.max(0, total - good) / total;
  return badShare / (1 - objective);
}

export interface RuleEvaluation {
  rule: BurnRateRule;
  longBurnRate: number;
  shortBurnRate: number;
  /** Both windows burn faster than the rule's rate (strictly); a rule's `for` is the caller's to apply. */
  firing: boolean;
}

export interface BurnRateAlerts {
  /** The most severe firing rule's severity, or null when none fires. */
  severity: AlertSeverity | null;
  rules: RuleEvaluation[];
}

/** Evaluates every rule at `now`. */
export function burnRateAlerts(
  series: WindowCounts,
  objective: number,
  rules: readonly BurnRateRule[],
  now: number,
): BurnRateAlerts {
  const evaluations = rules.map((rule) => {
    const longBurnRate = burnRate(series, objective, rule.longWindow, now);
    const shortBurnRate =
      rule.shortWindow > 0 ? burnRate(series, objective, rule.shortWindow, now) : longBurnRate;
    return {
      rule,
      longBurnRate,
      shortBurnRate,
      firing: longBurnRate > rule.burnRate && shortBurnRate > rule.burnRate,
    };
  });
  const firing = evaluations.filter((e) => e.firing);
  const severity = firing.some((e) => e.rule.severity === "page")
    ? "page"
    : firing.length > 0
      ? "ticket"
      : null;
  return { severity, rules: evaluations };
}

/**
 * A static rule: alert when the bad share of events over the window exceeds `maxBadRatio`,
 * once at least `minEvents` were seen (so three requests cannot page anyone).
 */
export interface ThresholdRule {
  severity: AlertSeverity;
  window: number;
  maxBadRatio: number;
  minEvents: number;
}

export interface ThresholdEvaluation {
  rule: ThresholdRule;
  badRatio: number | null;
  events: number;
  firing: boolean;
}

export function thresholdAlert(series: WindowCounts, rule: ThresholdRule, now: number): ThresholdEvaluation {
  const { good, total } = series.counts(now - rule.window, now);
  const badRatio = total === 0 ? null : Math.max(0, total - good) / total;
  return {
    rule,
    badRatio,
    events: total,
    firing: badRatio !== null && total >= rule.minEvents && badRatio > rule.maxBadRatio,
  };
}
