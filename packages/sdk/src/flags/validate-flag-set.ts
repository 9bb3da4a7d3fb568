import type { z } from "zod";
import { checkClause, type Report } from "./check-clause.ts";
import { checkServe, checkVariantValue, knownVariant } from "./check-serve.ts";
import { type Environment, type Flag, type FlagSet, FlagSetSchema, own } from "./model.ts";
import { prerequisiteCycles } from "./prerequisite-cycles.ts";
import type { FlagSetIssue } from "./types.ts";

export type FlagSetValidation =
  | { readonly ok: true; readonly flagSet: FlagSet }
  | { readonly ok: false; readonly errors: readonly FlagSetIssue[] };

/**
 * Parses and checks a whole flag set. Every problem is reported with its field path
 * (`flags.checkout.environments.production.rules[2].clauses[0].operator`) and the reason.
 * Structure is checked first; references, values and prerequisite cycles once the
 * structure is sound. Never throws.
 */
export function validateFlagSet(input: unknown): FlagSetValidation {
  try {
    return validate(input);
  } catch (error) {
    // Only input no JSON document can produce gets here, such as an object that contains itself.
    return {
      ok: false,
      errors: [{ path: "(root)", message: `cannot be read as a flag set: ${String(error)}` }],
    };
  }
}

function validate(input: unknown): FlagSetValidation {
  const parsed = FlagSetSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({
        path: issuePath(issue.path),
        message: issueMessage(issue),
      })),
    };
  }
  const errors: FlagSetIssue[] = [];
  const report: Report = (path, message) => errors.push({ path, message });
  checkReferences(parsed.data, report);
  errors.push(...prerequisiteCycles(parsed.data));
  return errors.length === 0 ? { ok: true, flagSet: parsed.data } : { ok: false, errors };
}

function checkReferences(set: FlagSet, report: Report): void {
  const segmentKeys = new Set(Object.keys(set.segments));
  for (const [key, flag] of Object.entries(set.flags)) checkFlag(set, key, flag, segmentKeys, report);
  for (const [key, segment] of Object.entries(set.segments)) {
    segment.rules.forEach((clauses, i) => {
      clauses.forEach((clause, j) => {
        checkClause(clause, `segments.${key}.rules[${i}][${j}]`, null, report);
      });
    });
  }
  for (const [key, plan] of Object.entries(set.plans)) {
    for (const [flagKey, variant] of Object.entries(plan.flags)) {
      const flag = own(set.flags, flagKey);
      const path = `plans.${key}.flags.${flagKey}`;
      if (!flag) report(path, `unknown flag "${flagKey}"`);
      else knownVariant(flag, variant, path, report);
    }
  }
}

function checkFlag(
  set: FlagSet,
  key: string,
  flag: Flag,
  segments: ReadonlySet<string>,
  report: Report,
): void {
  const path = `flags.${key}`;
  if (Object.keys(flag.variants).length === 0)
    report(`${path}.variants`, "a flag needs at least one variant");
  for (const [name, value] of Object.entries(flag.variants)) {
    checkVariantValue(flag.type, value, `${path}.variants.${name}`, report);
  }
  knownVariant(flag, flag.defaultVariant, `${path}.defaultVariant`, report);
  for (const [name, environment] of Object.entries(flag.environments)) {
    checkEnvironment(set, key, flag, name, environment, segments, report);
  }
}

function checkEnvironment(
  set: FlagSet,
  flagKey: string,
  flag: Flag,
  name: string,
  environment: Environment,
  segments: ReadonlySet<string>,
  report: Report,
): void {
  const path = `flags.${flagKey}.environments.${name}`;
  if (environment.offVariant !== undefined)
    knownVariant(flag, environment.offVariant, `${path}.offVariant`, report);
  environment.prerequisites.forEach((prerequisite, i) => {
    const at = `${path}.prerequisites[${i}]`;
    const required = own(set.flags, prerequisite.flagKey);
    if (!required) {
      report(`${at}.flagKey`, `unknown flag "${prerequisite.flagKey}"`);
    } else if (!own(required.environments, name)) {
      report(
        `${at}.flagKey`,
        `flag "${prerequisite.flagKey}" has no "${name}" environment to be evaluated in`,
      );
    } else {
      knownVariant(required, prerequisite.variant, `${at}.variant`, report);
    }
  });
  environment.rules.forEach((rule, i) => {
    rule.clauses.forEach((clause, j) => {
      checkClause(clause, `${path}.rules[${i}].clauses[${j}]`, segments, report);
    });
    checkServe(flag, rule, `${path}.rules[${i}]`, report);
  });
  if (environment.fallthrough) checkServe(flag, environment.fallthrough, `${path}.fallthrough`, report);
}

/** A record key's own problem ("a flag key must be ...") rather than zod's "Invalid key in record". */
function issueMessage(issue: z.core.$ZodIssue): string {
  const inner = issue.code === "invalid_key" ? issue.issues[0]?.message : undefined;
  return inner ?? issue.message;
}

/** "flags.checkout.rules[2].operator" from a schema issue's path. */
function issuePath(path: ReadonlyArray<PropertyKey>): string {
  return (
    path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "") || "(root)"
  );
}
