export {
  type AlertSeverity,
  type BurnRateAlerts,
  type BurnRateRule,
  burnRate,
  burnRateAlerts,
  type RuleEvaluation,
  type ThresholdEvaluation,
  type ThresholdRule,
  thresholdAlert,
  workbookBurnRateRules,
} from "./burn-rate.ts";
export { type ErrorBudget, errorBudget } from "./error-budget.ts";
export { type EventCounts, type SliPoint, SliSeries, type WindowCounts } from "./sli-series.ts";
export {
  type CalendarUnit,
  calendarPeriod,
  type SloWindow,
  type WindowBounds,
  windowAt,
  windowLength,
} from "./slo-window.ts";
