export { formatDuration, parseDuration } from "./duration.ts";
export { type FlagEnvironmentSpec, type FlagsSpec, flagsSpec } from "./flags-spec.ts";
export { type FreezeSpec, freezeSpec, type Weekday, weekdays } from "./freeze-spec.ts";
export {
  type ExperimentAlertSpec,
  experimentAlertSpec,
  type GantryConfig,
  gantryConfig,
  type ServerSpec,
} from "./gantry-config.ts";
export { type IncidentsSpec, incidentsSpec } from "./incidents-spec.ts";
export { gantryConfigJsonSchema } from "./json-schema.ts";
export { type ConfigOverrides, loadConfigFile, parseConfigText, resolveConfig } from "./load-config.ts";
export { oncallToInput, policyToInput, scheduleToInput } from "./oncall-input.ts";
export {
  contactIssues,
  type OncallKind,
  type OncallReference,
  type OncallSpecOf,
  oncallCollections,
  oncallKinds,
  referencesOf,
} from "./oncall-references.ts";
export {
  type NotifierSpec,
  notifierSpec,
  type OncallSpec,
  oncallEntrySpecs,
  oncallName,
  oncallSpec,
  type PersonSpec,
  type PolicySpec,
  personSpec,
  policySpec,
  type RouteSpec,
  routeSpec,
  type ScheduleSpec,
  scheduleSpec,
  secret,
  toPolicy,
  toSchedule,
} from "./oncall-spec.ts";
export {
  type AnalysisSpec,
  type BreakerSpec,
  type CanaryStep,
  type CustomCheckSpec,
  envMap,
  type HealthCheckSpec,
  type Phase,
  type ScheduleStep,
  type ServiceSpec,
  type ServiceSpecInput,
  type SmokeCheckSpec,
  type StrategySpec,
  type StrategyType,
  serviceName,
  serviceSpec,
  strategySpec,
  strategyTypes,
  versionName,
} from "./service-spec.ts";
export {
  alertingSpec,
  type BurnRateRule,
  type PrometheusSliSpec,
  prometheusSliSpec,
  ratio,
  type SliSpec,
  type SliStorageSpec,
  type SloSpec,
  type SloSpecInput,
  sliSpec,
  sliStorageSpec,
  sloName,
  sloSpec,
  sloToInput,
  sloWindowSpec,
  type ThresholdRule,
} from "./slo-spec.ts";
export { timeZone } from "./time-zone.ts";
export { describeIssues, issuePath, parseOrThrow } from "./validation.ts";
