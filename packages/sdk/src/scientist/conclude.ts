import { MismatchError } from "./errors.ts";
import type { ExperimentSetup } from "./experiment-setup.ts";
import { judge, type Report } from "./judge.ts";
import type { ExperimentResult, Observation } from "./types.ts";

/** What runners need from the scientist that started them. */
export interface RunEnv {
  /** Hands a result to the publisher; never throws. */
  publish(result: ExperimentResult): void;
  report: Report;
  /** Background runs in flight and those skipped because too many were. */
  background: { inFlight: number; skipped: number };
}

/**
 * Judges and publishes a finished run. Returns the MismatchError to throw when the
 * experiment asked for it and the caller is still waiting; once the caller has its
 * answer (background order) a mismatch can only be reported.
 */
export function conclude<T>(
  setup: ExperimentSetup<T>,
  observations: Observation<T>[],
  primary: number,
  startedAt: number,
  env: RunEnv,
  callerWaiting: boolean,
): MismatchError | undefined {
  const result = judge(setup, observations, primary, startedAt, env.report);
  env.publish(result as ExperimentResult);
  if (!setup.raiseMismatches || result.mismatched.length === 0) return undefined;
  const mismatch = new MismatchError(result as ExperimentResult);
  if (callerWaiting) return mismatch;
  env.report(mismatch, setup.name, "raiseOnMismatches");
  return undefined;
}

/** Reserves a background slot, or counts the run as skipped when all are taken. */
export function enterBackground(env: RunEnv, limit: number): boolean {
  if (env.background.inFlight >= limit) {
    env.background.skipped++;
    return false;
  }
  env.background.inFlight++;
  return true;
}

/** Indices 0..n-1 in random order; the two-behaviour case, by far the commonest, allocates nothing. */
export function shuffledOrder(n: number): readonly number[] {
  if (n === 2) return Math.random() < 0.5 ? CONTROL_FIRST : CANDIDATE_FIRST;
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

const CONTROL_FIRST: readonly number[] = Object.freeze([0, 1]);
const CANDIDATE_FIRST: readonly number[] = Object.freeze([1, 0]);
