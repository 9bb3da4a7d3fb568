import type { CompiledFlagSet, FlagSetCompilation } from "./compile-flag-set.ts";
import { errorResult } from "./results.ts";
import type { EvaluationContext, EvaluationOptions, EvaluationResult } from "./types.ts";

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({});

/**
 * Evaluates one flag for a context in an environment. Never throws: problems come back as
 * `reason: "ERROR"` with an OpenFeature error code. Given a compilation that failed, every
 * flag is a PARSE_ERROR naming the first problem, so a bad set is never evaluated.
 */
export function evaluate(
  flagSet: CompiledFlagSet | FlagSetCompilation,
  flagKey: string,
  environment: string,
  context: EvaluationContext = EMPTY_CONTEXT,
  options?: EvaluationOptions,
): EvaluationResult {
  try {
    const set = "ok" in flagSet ? (flagSet.ok ? flagSet.flagSet : null) : flagSet;
    if (set === null) return parseError(flagSet as FlagSetCompilation);
    const flag = set.flags.get(flagKey);
    if (!flag) return errorResult("FLAG_NOT_FOUND", `no flag "${flagKey}"`);
    if (options?.type !== undefined && options.type !== flag.type) {
      return errorResult("TYPE_MISMATCH", `flag "${flagKey}" is a ${flag.type}, not a ${options.type}`);
    }
    const evaluator = flag.environments.get(environment);
    if (!evaluator)
      return errorResult("FLAG_NOT_FOUND", `flag "${flagKey}" is not defined in ${environment}`);
    return evaluator(contextOf(context), nowOf(options), 0);
  } catch (error) {
    return errorResult("GENERAL", `evaluating "${flagKey}" failed: ${String(error)}`);
  }
}

/**
 * Evaluates every flag defined in the environment, keyed by flag key (OFREP's bulk
 * evaluation). Flags not defined in the environment are left out. Never throws.
 */
export function evaluateAll(
  flagSet: CompiledFlagSet,
  environment: string,
  context: EvaluationContext = EMPTY_CONTEXT,
  options?: Pick<EvaluationOptions, "now">,
): Record<string, EvaluationResult> {
  const results: Record<string, EvaluationResult> = {};
  for (const [key, flag] of flagSet.flags) {
    if (flag.environments.has(environment))
      results[key] = evaluate(flagSet, key, environment, context, options);
  }
  return results;
}

function parseError(failed: FlagSetCompilation): EvaluationResult {
  const first = failed.ok ? undefined : failed.errors[0];
  const where = first ? `${first.path}: ${first.message}` : "unknown problem";
  return errorResult("PARSE_ERROR", `the flag set is invalid and is not evaluated (${where})`);
}

function contextOf(context: unknown): EvaluationContext {
  return typeof context === "object" && context !== null ? (context as EvaluationContext) : EMPTY_CONTEXT;
}

function nowOf(options: EvaluationOptions | undefined): number | undefined {
  const now = options?.now;
  if (now instanceof Date) return now.getTime();
  return typeof now === "number" ? now : undefined;
}
