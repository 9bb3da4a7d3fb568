export {
  type CheckContext,
  type CheckOutcome,
  type CustomCheckResult,
  CustomChecks,
  httpProbe,
  judgeResources,
  type ResourceSample,
  renderTemplate,
  resourceUse,
  runCheck,
  withinBounds,
} from "./custom-checks.ts";
export { type Histogram, quantile, slowerThan, total } from "./histogram.ts";
export {
  type CheckResult,
  defaultJudgeSettings,
  type Judgement,
  type JudgeSettings,
  judge,
  judgeCeiling,
  type Verdict,
  type VersionSample,
} from "./judge.ts";
export { normalUpperTail } from "./normal.ts";
export { emptySample, routerSamples, routerSamplesByService, sampleDelta } from "./router-samples.ts";
export {
  type Comparison,
  compareDistributions,
  compareProportions,
  groupSamples,
  mixtureRatio,
  type Proportion,
} from "./tests.ts";
