export { deepEqual } from "./deep-equal.ts";
export { configureScience, science, scienceSync } from "./default-scientist.ts";
export { CandidateTimeoutError, MismatchError, ScienceUsageError } from "./errors.ts";
export { HttpPublisher, type HttpPublisherOptions, type HttpPublisherStats } from "./http-publisher.ts";
export { RecordingPublisher } from "./recording-publisher.ts";
export { stickyBucket } from "./sampling.ts";
export { DEFAULT_EXPERIMENT_SETTINGS, Scientist } from "./scientist.ts";
export type {
  Behavior,
  Enabled,
  Experiment,
  ExperimentContext,
  ExperimentDefaults,
  ExperimentResult,
  ExperimentSettings,
  FlagEvaluator,
  Observation,
  Order,
  Publisher,
  RaisedHook,
  ScienceConfig,
  SyncBehavior,
  SyncExperiment,
} from "./types.ts";
export { toWireResult, type WireObservation, type WireResult } from "./wire-result.ts";
