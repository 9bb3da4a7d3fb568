import { deepEqual } from "./deep-equal.ts";
import type { ExperimentSetup } from "./experiment-setup.ts";
import { sampledShare } from "./sampling.ts";
import type { ExperimentResult, Observation } from "./types.ts";

export type Report = (error: unknown, experiment: string, operation: string) => void;

/**
 * Sorts every candidate into matched, ignored or mismatched against the control. Helpers
 * that throw are reported and counted against the candidate (a compare that fails is a
 * mismatch, an ignore that fails ignores nothing), so a broken helper shows up in results.
 */
export function judge<T>(
  setup: ExperimentSetup<T>,
  observations: Observation<T>[],
  primary: number,
  startedAt: number,
  report: Report,
): ExperimentResult<T> {
  const control = observations[0]!;
  const candidates = observations.slice(1);
  const matched: string[] = [];
  const ignored: string[] = [];
  const mismatched: string[] = [];
  for (const candidate of candidates) {
    if (equivalent(setup, control, candidate, report)) matched.push(candidate.name);
    else if (isIgnored(setup, control, candidate, report)) ignored.push(candidate.name);
    else mismatched.push(candidate.name);
  }
  return {
    name: setup.name,
    context: setup.contextData ?? EMPTY,
    control,
    candidates,
    matched,
    ignored,
    mismatched,
    returned: setup.names[primary]!,
    startedAt,
    sampled: sampledShare(setup.enabledBy),
    clean: setup.cleaner,
  };
}

const EMPTY = Object.freeze({});

function equivalent<T>(
  setup: ExperimentSetup<T>,
  control: Observation<T>,
  candidate: Observation<T>,
  report: Report,
): boolean {
  if (control.threw !== candidate.threw) return false;
  try {
    if (!control.threw) return (setup.equal ?? deepEqual)(control.value as T, candidate.value as T) === true;
    return (setup.errorsEqual ?? sameError)(control.error, candidate.error) === true;
  } catch (error) {
    report(error, setup.name, control.threw ? "compareErrors" : "compare");
    return false;
  }
}

function isIgnored<T>(
  setup: ExperimentSetup<T>,
  control: Observation<T>,
  candidate: Observation<T>,
  report: Report,
): boolean {
  if (setup.ignorers === undefined) return false;
  for (const ignore of setup.ignorers) {
    try {
      if (ignore(control, candidate) === true) return true;
    } catch (error) {
      report(error, setup.name, "ignore");
    }
  }
  return false;
}

/** Scientist's default: the same class and the same message. */
function sameError(a: unknown, b: unknown): boolean {
  if (!(a instanceof Error) || !(b instanceof Error)) return deepEqual(a, b);
  return a.constructor === b.constructor && a.message === b.message;
}
