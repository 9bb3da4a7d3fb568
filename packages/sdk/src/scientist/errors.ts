import type { ExperimentResult } from "./types.ts";

/**
 * A mistake in how an experiment is written (no control, two unnamed candidates...).
 * Thrown from setup on the first call, so it shows in the first test that runs the code.
 */
export class ScienceUsageError extends Error {
  override name = "ScienceUsageError";
}

/** Thrown to the caller only when the experiment asked for `raiseOnMismatches`. */
export class MismatchError extends Error {
  override name = "MismatchError";
  readonly result: ExperimentResult;

  constructor(result: ExperimentResult) {
    super(
      `experiment "${result.name}": candidate(s) ${result.mismatched.join(", ")} did not match ` +
        `"${result.control.name}"`,
    );
    this.result = result;
  }
}

/** Recorded as a candidate's error when it does not settle within the experiment's timeout. */
export class CandidateTimeoutError extends Error {
  override name = "CandidateTimeoutError";

  constructor(candidate: string, timeoutMs: number) {
    super(`candidate "${candidate}" did not settle within ${timeoutMs} ms`);
  }
}
