import type { Flag } from "./model.ts";
import type { EvaluationErrorCode, EvaluationReason, EvaluationResult, FlagValue } from "./types.ts";

/**
 * A successful result, built once at compile time and shared by every evaluation that
 * serves it, so evaluating allocates nothing. Frozen through and through, since callers
 * share it; the value is a copy, so the flag set given to compile is not frozen.
 */
export function servedResult(flag: Flag, variant: string, reason: EvaluationReason): EvaluationResult {
  const value = deepFreeze(structuredClone(flag.variants[variant]) as FlagValue);
  return Object.freeze({ value, variant, reason });
}

export function errorResult(errorCode: EvaluationErrorCode, errorMessage: string): EvaluationResult {
  return Object.freeze({ value: null, variant: null, reason: "ERROR", errorCode, errorMessage });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
