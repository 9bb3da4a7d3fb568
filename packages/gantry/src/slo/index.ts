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
export { importOpenSlo, type OpenSloImportOptions } from "./openslo.ts";
export { prometheusRules } from "./prometheus-rules.ts";
export {
  PrometheusSli,
  type PrometheusSliStatus,
  PrometheusSlis,
  prometheusSliDigest,
  prometheusSliService,
} from "./prometheus-sli.ts";
export { type InstanceUsage, SliRecorder, type SliRecorderDeps } from "./sli-recorder.ts";
export { type EventCounts, type SliPoint, SliSeries, type WindowCounts } from "./sli-series.ts";
export { coarseTier, fineTier, type MaintenanceReport, type SliSample, SliStore } from "./sli-store.ts";
export { serviceSlis, type VersionSli } from "./sli-summary.ts";
export { SloCatalog, type SloSource, type StoredSlo } from "./slo-catalog.ts";
export { goodEvents, type SliSourceStatus, SloEngine, type SloStatus } from "./slo-engine.ts";
export { SloService, type SloServiceDeps, type SloView } from "./slo-service.ts";
export {
  type CalendarUnit,
  calendarPeriod,
  type SloWindow,
  type WindowBounds,
  windowAt,
  windowLength,
} from "./slo-window.ts";
export { TieredSliSeries, type TierSettings } from "./tiered-sli-series.ts";
