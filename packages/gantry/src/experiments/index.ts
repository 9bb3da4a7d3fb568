export { addRun, type ExperimentCounts, emptyCounts, outcomeOf, timing } from "./experiment-stats.ts";
export {
  type ExperimentDetail,
  ExperimentStore,
  type ExperimentSummary,
  retention,
} from "./experiment-store.ts";
export { resultBatch, type WireResult, wireResult } from "./result-schema.ts";
