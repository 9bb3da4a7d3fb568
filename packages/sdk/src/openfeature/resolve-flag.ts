import {
  ErrorCode,
  type EvaluationContext,
  type FlagValue,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import { type EvaluationOptions, evaluate, type EvaluationContext as GantryContext } from "../flags/index.ts";
import type { EvaluationCounts } from "./evaluation-counts.ts";
import type { RuleSet } from "./rule-set.ts";

export type FlagType = NonNullable<EvaluationOptions["type"]>;

const TYPE_OPTIONS: Record<FlagType, EvaluationOptions> = {
  boolean: Object.freeze({ type: "boolean" }),
  string: Object.freeze({ type: "string" }),
  number: Object.freeze({ type: "number" }),
  object: Object.freeze({ type: "object" }),
};

/** The flag type a default value asks for. */
export function typeOf(value: FlagValue): FlagType {
  const type = typeof value;
  return type === "boolean" || type === "string" || type === "number" ? type : "object";
}

/**
 * One flag of a rule set as OpenFeature resolution details, counted when it served a
 * variant. A success is the evaluator's own frozen result ({value, variant, reason},
 * shared, no allocation); a failure serves the caller's default with the error code.
 * The clock is read only for rule sets with `$now` clauses. Never throws.
 */
export function resolveFlag<T>(
  ruleSet: RuleSet,
  flagKey: string,
  defaultValue: T,
  context: EvaluationContext,
  type: FlagType,
  counts: EvaluationCounts | undefined,
): ResolutionDetails<T> {
  try {
    const options = ruleSet.usesNow ? { type, now: Date.now() } : TYPE_OPTIONS[type];
    const result = evaluate(
      ruleSet.compiled,
      flagKey,
      ruleSet.environment,
      context as GantryContext,
      options,
    );
    if (result.variant === null) {
      const code = (result.errorCode ?? ErrorCode.GENERAL) as ErrorCode;
      return unresolved(defaultValue, code, result.errorMessage ?? "evaluation failed");
    }
    counts?.add(flagKey, result.variant);
    return result as unknown as ResolutionDetails<T>;
  } catch (error) {
    return unresolved(defaultValue, ErrorCode.GENERAL, String(error));
  }
}

/** The caller's default, with reason ERROR and why. */
export function unresolved<T>(
  defaultValue: T,
  errorCode: ErrorCode,
  errorMessage: string,
): ResolutionDetails<T> {
  return { value: defaultValue, reason: "ERROR", errorCode, errorMessage };
}
