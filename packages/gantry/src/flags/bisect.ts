/**
 * The search of `gantry flags bisect`, as pure data: which prefix of the window's changes to
 * try next, and what the checks so far prove. Like `git bisect`, over the flag changes of
 * a time window in the order they were made: "prefix k" serves every flag as it was right
 * after the k-th change (0 = as before the window, n = as now). The culprit is the change k
 * whose prefix fails while prefix k-1 passes: the change that brings the regression in,
 * well defined even when it only breaks together with an earlier change.
 *
 * Prefix 0 is assumed to pass and prefix n to fail (that is the regression being hunted),
 * so halving the open interval takes ⌈log2 n⌉ checks. An answer that rests on one of those
 * assumptions is then checked once more, so a wrong check or a regression that is not a
 * flag's is reported as such instead of blaming the first or last change: at most
 * ⌈log2 n⌉ + 1 checks in all.
 */

export interface BisectCheck {
  /** The prefix tried: how many of the window's changes were applied. */
  readonly prefix: number;
  readonly passed: boolean;
}

export interface BisectState {
  /** Number of changes in the window. */
  readonly changes: number;
  /** Highest prefix known (or, while not in `checks`, assumed) to pass. */
  readonly good: number;
  /** Lowest prefix known (or, while not in `checks`, assumed) to fail. */
  readonly bad: number;
  readonly checks: readonly BisectCheck[];
  /** Set once the checks contradict an assumption: no change in the window is to blame. */
  readonly contradiction?: "fails-without-changes" | "passes-with-all-changes";
}

export type BisectStep =
  | { readonly kind: "check"; readonly prefix: number }
  | {
      readonly kind: "found";
      /** 1-based position of the culprit change in the window. */
      readonly change: number;
      /** The checks that show it: the prefix before it passed, its own prefix failed. */
      readonly proof: { readonly passedWithout: boolean; readonly failedWith: boolean };
    }
  | { readonly kind: "not-a-flag"; readonly reason: string }
  | { readonly kind: "nothing-to-bisect" };

export function startBisect(changes: number): BisectState {
  if (!Number.isInteger(changes) || changes < 0)
    throw new RangeError(`changes must be a count, not ${changes}`);
  return { changes, good: 0, bad: changes, checks: [] };
}

/** The most checks a window of n changes can take: ⌈log2 n⌉ + 1 (none for an empty window). */
export function maxChecks(changes: number): number {
  return changes === 0 ? 0 : Math.ceil(Math.log2(changes)) + 1;
}

export function nextStep(state: BisectState): BisectStep {
  if (state.changes === 0) return { kind: "nothing-to-bisect" };
  if (state.contradiction === "fails-without-changes") {
    return {
      kind: "not-a-flag",
      reason:
        "the check fails even with every change in the window reverted: the regression does not come from these flag changes (or the check fails for another reason)",
    };
  }
  if (state.contradiction === "passes-with-all-changes") {
    return {
      kind: "not-a-flag",
      reason:
        "the check passes with every change in the window applied (the flags as they are now): it does not see the regression, so there is nothing to bisect with it",
    };
  }
  if (state.bad - state.good > 1) return { kind: "check", prefix: midpoint(state.good, state.bad) };
  const passedWithout = checked(state, state.good) === true;
  const failedWith = checked(state, state.bad) === false;
  // The answer rests on an assumed endpoint: check it, once. With a single change both
  // ends are assumed and only one check is allowed; reverting it is the telling one.
  if (!passedWithout && !state.checks.some((c) => c.prefix === 0)) return { kind: "check", prefix: 0 };
  if (!failedWith && state.checks.length < maxChecks(state.changes)) {
    return { kind: "check", prefix: state.bad };
  }
  return { kind: "found", change: state.bad, proof: { passedWithout, failedWith } };
}

/** Records the outcome of checking a prefix; a check the search did not ask for is refused. */
export function recordCheck(state: BisectState, prefix: number, passed: boolean): BisectState {
  const step = nextStep(state);
  if (step.kind !== "check" || step.prefix !== prefix) {
    throw new Error(`the bisection asked for ${describe(step)}, not a check of prefix ${prefix}`);
  }
  const checks = [...state.checks, { prefix, passed }];
  if (prefix === 0 && !passed) return { ...state, checks, contradiction: "fails-without-changes" };
  if (prefix === state.changes && passed)
    return { ...state, checks, contradiction: "passes-with-all-changes" };
  return passed ? { ...state, checks, good: prefix } : { ...state, checks, bad: prefix };
}

function midpoint(good: number, bad: number): number {
  return good + Math.floor((bad - good) / 2);
}

function checked(state: BisectState, prefix: number): boolean | undefined {
  return state.checks.find((c) => c.prefix === prefix)?.passed;
}

function describe(step: BisectStep): string {
  return step.kind === "check" ? `a check of prefix ${step.prefix}` : `no more checks (${step.kind})`;
}
