export { BUCKETS, bucketInput, bucketOf } from "./bucket.ts";
export {
  type CompiledFlag,
  type CompiledFlagSet,
  compileFlagSet,
  type FlagSetCompilation,
} from "./compile-flag-set.ts";
export { evaluate, evaluateAll } from "./evaluate.ts";
export {
  type Clause,
  type Environment,
  FLAG_TYPES,
  type Flag,
  type FlagSet,
  type FlagSetInput,
  FlagSetSchema,
  type FlagType,
  OPERATORS,
  type Operator,
  type Plan,
  type Prerequisite,
  type Rule,
  type Segment,
  type Serve,
} from "./model.ts";
export { murmur3 } from "./murmur3.ts";
export type {
  EvaluationContext,
  EvaluationErrorCode,
  EvaluationOptions,
  EvaluationReason,
  EvaluationResult,
  FlagSetIssue,
  FlagValue,
  JsonValue,
} from "./types.ts";
export { type FlagSetValidation, validateFlagSet } from "./validate-flag-set.ts";
