/** Why a value was served; the names and meanings are OpenFeature's resolution reasons. */
export type EvaluationReason = "STATIC" | "TARGETING_MATCH" | "SPLIT" | "DISABLED" | "DEFAULT" | "ERROR";

/** OpenFeature's error codes, those an in-process evaluation can produce. */
export type EvaluationErrorCode =
  | "FLAG_NOT_FOUND"
  | "TYPE_MISMATCH"
  | "TARGETING_KEY_MISSING"
  | "PARSE_ERROR"
  | "GENERAL";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type FlagValue = boolean | string | number | { [key: string]: JsonValue } | JsonValue[];

/**
 * The outcome of one evaluation. On success `value` and `variant` are set and frozen (they
 * are shared between calls). On error both are null, `reason` is `ERROR` and the caller
 * (an OpenFeature provider, the OFREP endpoint) serves the application's default value.
 */
export interface EvaluationResult {
  readonly value: FlagValue | null;
  readonly variant: string | null;
  readonly reason: EvaluationReason;
  readonly errorCode?: EvaluationErrorCode;
  readonly errorMessage?: string;
}

/** OpenFeature's evaluation context: an optional targeting key and free attributes. */
export interface EvaluationContext {
  readonly targetingKey?: string;
  readonly [attribute: string]: unknown;
}

export interface EvaluationOptions {
  /** The type the caller expects; another type is a TYPE_MISMATCH error. */
  readonly type?: "boolean" | "string" | "number" | "object";
  /**
   * The current time, for clauses on the `$now` attribute (scheduled launches). Pure
   * evaluation has no clock: without `now`, a `$now` clause is about a missing attribute.
   */
  readonly now?: Date | number;
}

/** One problem in a flag set: where it is (`flags.checkout.defaultVariant`) and what is wrong. */
export interface FlagSetIssue {
  readonly path: string;
  readonly message: string;
}
