import type { WireResult } from "./result-schema.ts";

export interface BehaviourCounts {
  runs: number;
  errors: number;
  timeouts: number;
}

export interface ExperimentCounts {
  runs: number;
  matched: number;
  mismatched: number;
  ignored: number;
  behaviours: Record<string, BehaviourCounts>;
}

export const emptyCounts = (): ExperimentCounts => ({
  runs: 0,
  matched: 0,
  mismatched: 0,
  ignored: 0,
  behaviours: {},
});

/**
 * A run matched when every candidate matched, mismatched when any candidate mismatched
 * (and the mismatch was not ignored), ignored otherwise.
 */
export function outcomeOf(result: WireResult): "matched" | "mismatched" | "ignored" {
  if (result.mismatched.length > 0) return "mismatched";
  if (result.ignored.length > 0) return "ignored";
  return "matched";
}

/** Adds one run to the all-time counters (pure: returns new counts). */
export function addRun(counts: ExperimentCounts, result: WireResult): ExperimentCounts {
  const next: ExperimentCounts = { ...counts, runs: counts.runs + 1, behaviours: { ...counts.behaviours } };
  next[outcomeOf(result)] += 1;
  for (const o of [result.control, ...result.candidates]) {
    const b = next.behaviours[o.name] ?? { runs: 0, errors: 0, timeouts: 0 };
    next.behaviours[o.name] = {
      runs: b.runs + 1,
      errors: b.errors + (o.error && !o.timedOut ? 1 : 0),
      timeouts: b.timeouts + (o.timedOut ? 1 : 0),
    };
  }
  return next;
}

export interface Timing {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of a sample (ms). */
export function timing(values: number[]): Timing {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return { samples: sorted.length, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: sorted.at(-1) ?? 0 };
}
