import type { Clause, Segment } from "./model.ts";
import { OPERATOR_SPECS, type ValueTest } from "./operators.ts";
import type { EvaluationContext } from "./types.ts";

/** Whether a context matches; `now` is the injected clock in epoch milliseconds, if any. */
export type Matcher = (context: EvaluationContext, now: number | undefined) => boolean;

/** The attribute that reads the injected clock instead of the context. */
export const NOW_ATTRIBUTE = "$now";

/**
 * A clause about a missing attribute, or one of the wrong kind, never matches, whatever
 * its operator or negation: not knowing a user's country is not "country notIn [DK]".
 * An array attribute matches when any of its elements does (`groups in [beta]`).
 */
export function compileClause(clause: Clause, segments: ReadonlyMap<string, Matcher>): Matcher {
  // notIn is `in` negated over the whole attribute, so groups [a, b] is not "notIn [b]".
  const negate = (clause.negate === true) !== (clause.operator === "notIn");
  if (clause.operator === "segmentMatch") {
    const members = clause.values.map((key) => segments.get(String(key))!);
    return (context, now) => members.some((isMember) => isMember(context, now)) !== negate;
  }
  const test = OPERATOR_SPECS[clause.operator].compile(clause.values, clause.caseInsensitive === true);
  const attribute = clause.attribute!;
  const readsClock = attribute === NOW_ATTRIBUTE;
  return (context, now) => {
    const value = readsClock ? now : context[attribute];
    if (value === undefined || value === null) return false;
    const verdict = Array.isArray(value) ? anyElement(value, test) : test(value);
    return verdict === undefined ? false : verdict !== negate;
  };
}

/** All clauses must match; an empty list matches everyone. */
export function allOf(matchers: readonly Matcher[]): Matcher {
  if (matchers.length === 1) return matchers[0]!;
  return (context, now) => {
    for (const matches of matchers) if (!matches(context, now)) return false;
    return true;
  };
}

/**
 * Segment membership: a targeting key in `excluded` is out even if also in `included`
 * (an exclusion is the more deliberate statement); one in `included` is in; otherwise the
 * context is in when any rule's clauses all match.
 */
export function compileSegment(segment: Segment): Matcher {
  const included = new Set(segment.included);
  const excluded = new Set(segment.excluded);
  const noSegments = new Map<string, Matcher>();
  const rules = segment.rules.map((clauses) => allOf(clauses.map((c) => compileClause(c, noSegments))));
  return (context, now) => {
    const key = context.targetingKey;
    if (typeof key === "string") {
      if (excluded.has(key)) return false;
      if (included.has(key)) return true;
    }
    for (const matches of rules) if (matches(context, now)) return true;
    return false;
  };
}

function anyElement(values: readonly unknown[], test: ValueTest): boolean | undefined {
  let verdict: boolean | undefined;
  for (const value of values) {
    const r = value === undefined || value === null ? undefined : test(value);
    if (r === true) return true;
    if (r === false) verdict = false;
  }
  return verdict;
}
