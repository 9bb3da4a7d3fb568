import { bucketer, splitBounds, variantIndexFor } from "./bucket.ts";
import { allOf, compileClause, type Matcher } from "./clauses.ts";
import { type Environment, type Flag, type FlagSet, own, type Prerequisite, type Serve } from "./model.ts";
import { errorResult, servedResult } from "./results.ts";
import type { EvaluationContext, EvaluationReason, EvaluationResult } from "./types.ts";

/** Evaluates one flag in one environment; `depth` counts prerequisite nesting. */
export type EnvironmentEvaluator = (
  context: EvaluationContext,
  now: number | undefined,
  depth: number,
) => EvaluationResult;

/** Finds a flag's evaluator in an environment, for prerequisites (bound late, after all are compiled). */
export type EvaluatorLookup = (flagKey: string, environment: string) => EnvironmentEvaluator | undefined;

/** Deeper prerequisite chains than this are refused at run time (validation refuses cycles already). */
export const MAX_PREREQUISITE_DEPTH = 32;

export interface EnvironmentSource {
  readonly set: FlagSet;
  readonly flagKey: string;
  readonly flag: Flag;
  readonly name: string;
  readonly environment: Environment;
  readonly segments: ReadonlyMap<string, Matcher>;
  readonly lookup: EvaluatorLookup;
}

/**
 * Precedence, first that applies wins: disabled → off variant; a prerequisite not served
 * its variant → off variant; the context's plan → the plan's variant; the first matching
 * rule; the fallthrough. Prerequisites come first because they state what the code needs
 * to work; plans come before rules because they are what a customer is entitled to, which
 * an experiment or a rollout must not take away.
 */
export function compileEnvironment(source: EnvironmentSource): EnvironmentEvaluator {
  const { set, flagKey, flag, environment } = source;
  const off = servedResult(flag, environment.offVariant ?? flag.defaultVariant, "DISABLED");
  if (!environment.enabled) return () => off;
  const plans = planResults(set, flagKey, flag);
  const planAttribute = set.planAttribute;
  const rules = environment.rules.map((rule) => ({
    matches: allOf(rule.clauses.map((clause) => compileClause(clause, source.segments))),
    serve: compileServe(flagKey, flag, rule, "TARGETING_MATCH"),
  }));
  const prerequisites = environment.prerequisites.map((p) => compilePrerequisite(p, source));
  const isStatic = prerequisites.length === 0 && rules.length === 0 && plans.size === 0;
  const fallthrough = compileServe(
    flagKey,
    flag,
    environment.fallthrough ?? { variant: flag.defaultVariant },
    isStatic ? "STATIC" : "DEFAULT",
  );
  return (context, now, depth) => {
    for (const prerequisite of prerequisites) {
      const served = prerequisite(context, now, depth);
      if (served !== true) return served ?? off;
    }
    if (plans.size > 0) {
      const plan = context[planAttribute];
      const result = typeof plan === "string" ? plans.get(plan) : undefined;
      if (result) return result;
    }
    for (const rule of rules) if (rule.matches(context, now)) return rule.serve(context);
    return fallthrough(context);
  };
}

/** True when met, null when not (serve the off variant), an error result when it cannot tell. */
type PrerequisiteCheck = (
  context: EvaluationContext,
  now: number | undefined,
  depth: number,
) => true | null | EvaluationResult;

function compilePrerequisite(prerequisite: Prerequisite, source: EnvironmentSource): PrerequisiteCheck {
  const { flagKey, variant } = prerequisite;
  return (context, now, depth) => {
    const evaluator = source.lookup(flagKey, source.name);
    if (!evaluator)
      return errorResult("GENERAL", `prerequisite "${flagKey}" is not defined in ${source.name}`);
    if (depth >= MAX_PREREQUISITE_DEPTH) {
      return errorResult(
        "GENERAL",
        `prerequisites nest deeper than ${MAX_PREREQUISITE_DEPTH} at "${flagKey}"`,
      );
    }
    const served = evaluator(context, now, depth + 1);
    if (served.reason === "ERROR") {
      return errorResult(served.errorCode ?? "GENERAL", `prerequisite "${flagKey}": ${served.errorMessage}`);
    }
    return served.variant === variant ? true : null;
  };
}

function planResults(set: FlagSet, flagKey: string, flag: Flag): Map<string, EvaluationResult> {
  const results = new Map<string, EvaluationResult>();
  for (const [planKey, plan] of Object.entries(set.plans)) {
    const variant = own(plan.flags, flagKey);
    if (variant !== undefined) results.set(planKey, servedResult(flag, variant, "TARGETING_MATCH"));
  }
  return results;
}

type Server = (context: EvaluationContext) => EvaluationResult;

function compileServe(flagKey: string, flag: Flag, serve: Serve, reason: EvaluationReason): Server {
  if (serve.split === undefined) {
    const result = servedResult(flag, serve.variant!, reason);
    return () => result;
  }
  const bounds = splitBounds(serve.split.map((part) => part.weight));
  const results = serve.split.map((part) => servedResult(flag, part.variant, "SPLIT"));
  const bucketFor = bucketer(flagKey, serve.salt ?? "");
  const bucketBy = serve.bucketBy ?? "targetingKey";
  const missing =
    bucketBy === "targetingKey"
      ? errorResult(
          "TARGETING_KEY_MISSING",
          `flag "${flagKey}" splits by targetingKey, which the context lacks`,
        )
      : errorResult(
          "GENERAL",
          `flag "${flagKey}" splits by attribute "${bucketBy}", which the context lacks (or is not a string or integer)`,
        );
  return (context) => {
    const value = bucketValue(context[bucketBy]);
    return value === null ? missing : results[variantIndexFor(bounds, bucketFor(value))]!;
  };
}

/** A non-empty string as is, a safe integer in decimal; anything else cannot be bucketed. */
function bucketValue(value: unknown): string | null {
  if (typeof value === "string") return value === "" ? null : value;
  return Number.isSafeInteger(value) ? String(value) : null;
}
