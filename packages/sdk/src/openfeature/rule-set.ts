import { type CompiledFlagSet, compileFlagSet } from "../flags/index.ts";

/** A flag set the provider may evaluate: validated and compiled, with where it came from. */
export interface RuleSet {
  readonly environment: string;
  readonly revision: number;
  readonly compiled: CompiledFlagSet;
  /** Whether any clause reads `$now`, so evaluations pass the clock only when it matters. */
  readonly usesNow: boolean;
}

export type RuleSetParse = { ok: true; ruleSet: RuleSet } | { ok: false; message: string };

/**
 * Reads `{environment, revision, flagSet}` (the body of GET /api/v1/sdk/flags, a stream
 * event, or a snapshot) and compiles the flag set with the shared evaluator. A set that
 * fails validation is refused here, so it is never evaluated. Never throws.
 */
export function parseRuleSet(value: unknown): RuleSetParse {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, message: "expected a JSON object {environment, revision, flagSet}" };
  }
  const { environment, revision, flagSet } = value as Record<string, unknown>;
  if (typeof environment !== "string" || environment === "") {
    return { ok: false, message: `environment: expected a name, got ${JSON.stringify(environment)}` };
  }
  if (typeof revision !== "number" || !Number.isSafeInteger(revision) || revision < 0) {
    return { ok: false, message: `revision: expected a whole number, got ${JSON.stringify(revision)}` };
  }
  const compilation = compileFlagSet(flagSet);
  if (!compilation.ok) {
    const [first, ...more] = compilation.errors;
    const rest = more.length > 0 ? ` (and ${more.length} more)` : "";
    return {
      ok: false,
      message: `the flag set of revision ${revision} is invalid: flagSet.${first?.path}: ${first?.message}${rest}`,
    };
  }
  const usesNow = JSON.stringify(compilation.flagSet.source).includes('"attribute":"$now"');
  return { ok: true, ruleSet: { environment, revision, compiled: compilation.flagSet, usesNow } };
}

/** `parseRuleSet` of JSON text. */
export function parseRuleSetText(text: string): RuleSetParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not valid JSON (${(error as Error).message})` };
  }
  return parseRuleSet(value);
}
