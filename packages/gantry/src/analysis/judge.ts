import { type Histogram, quantile, slowerThan, total } from "./histogram.ts";
import { normalUpperTail as normalTail } from "./normal.ts";
import { type Comparison, compareDistributions, compareProportions, mixtureRatio } from "./tests.ts";

/** What one version served over the same window as the other: the router's counts. */
export interface VersionSample {
  /** Requests answered (any status). */
  requests: number;
  /** Requests that failed: 5xx answers and connection errors. */
  errors: number;
  latency: Histogram;
}

export interface JudgeSettings {
  /** False-alarm rate over the whole step, however often it is judged. */
  alpha: number;
  /** Requests each side needs before a verdict other than inconclusive. */
  minSamples: number;
  errorRate: {
    /** The candidate fails only when it is worse than the baseline by at least this (absolute rate). */
    minEffect: number;
    /** Fails when the candidate's error rate is above this, whatever the baseline does. */
    max?: number;
    tau: number;
  };
  latency: {
    /** The candidate fails only when P(slower than the baseline) − ½ is at least this. */
    minEffect: number;
    /** Fails when the candidate's p99 is above this many ms, whatever the baseline does. */
    maxP99Ms?: number;
    tau: number;
  };
}

export const defaultJudgeSettings: JudgeSettings = {
  alpha: 0.01,
  minSamples: 20,
  errorRate: { minEffect: 0.005, tau: 0.01 },
  latency: { minEffect: 0.1, tau: 0.05 },
};

export type Verdict = "pass" | "fail" | "inconclusive";

export interface CheckResult {
  name: "error-rate" | "latency" | "error-rate-max" | "latency-p99-max";
  verdict: Verdict;
  /** One line a person reads in `gantry status`. */
  summary: string;
  comparison: Comparison;
  /** What each side showed: error rates, or p50/p99 in ms. */
  baseline: Record<string, number | null>;
  candidate: Record<string, number | null>;
}

export interface Judgement {
  verdict: Verdict;
  checks: CheckResult[];
}

/**
 * Judges a candidate against a baseline observed over the same moments. Fails as soon as any
 * check has the evidence (≥ 1/α) that the candidate is worse by more than its minimum
 * effect, or above its ceiling; inconclusive
 * while either side has fewer than `minSamples` requests; otherwise passes for now. Meant to
 * be called again and again as samples accumulate; the false-alarm rate stays under α.
 */
export function judge(baseline: VersionSample, candidate: VersionSample, settings: JudgeSettings): Judgement {
  const checks = [errorRateCheck(baseline, candidate, settings), latencyCheck(baseline, candidate, settings)];
  if (settings.errorRate.max !== undefined)
    checks.push(errorRateMaxCheck(candidate, settings.errorRate.max, settings));
  if (settings.latency.maxP99Ms !== undefined)
    checks.push(latencyMaxCheck(candidate, settings.latency.maxP99Ms, settings));
  const verdict: Verdict = checks.some((c) => c.verdict === "fail")
    ? "fail"
    : checks.some((c) => c.verdict === "inconclusive")
      ? "inconclusive"
      : "pass";
  return { verdict, checks };
}

function errorRateCheck(b: VersionSample, c: VersionSample, s: JudgeSettings): CheckResult {
  const comparison = compareProportions(
    { failures: b.errors, total: b.requests },
    { failures: c.errors, total: c.requests },
    s.errorRate.tau,
    s.errorRate.minEffect,
  );
  const rates = { baseline: rate(b), candidate: rate(c) };
  const verdict = decide(comparison, s);
  return {
    name: "error-rate",
    verdict,
    summary: `error rate ${percent(rates.candidate)} vs baseline ${percent(rates.baseline)} (${samples(comparison)}, p=${p(comparison.pValue)})`,
    comparison,
    baseline: { errorRate: rates.baseline },
    candidate: { errorRate: rates.candidate },
  };
}

function latencyCheck(b: VersionSample, c: VersionSample, s: JudgeSettings): CheckResult {
  const comparison = compareDistributions(
    b.latency.counts,
    c.latency.counts,
    s.latency.tau,
    s.latency.minEffect,
  );
  const verdict = decide(comparison, s);
  const slower = comparison.effect + 0.5;
  return {
    name: "latency",
    verdict,
    summary: `latency p50 ${ms(quantile(c.latency, 0.5))} vs ${ms(quantile(b.latency, 0.5))}, p99 ${ms(quantile(c.latency, 0.99))} vs ${ms(quantile(b.latency, 0.99))}; P(slower) ${slower.toFixed(2)} (${samples(comparison)}, p=${p(comparison.pValue)})`,
    comparison,
    baseline: latencyFigures(b.latency),
    candidate: latencyFigures(c.latency),
  };
}

/** The candidate's own error rate against a fixed ceiling, with the same sequential evidence. */
function errorRateMaxCheck(c: VersionSample, max: number, s: JudgeSettings): CheckResult {
  const comparison = againstCeiling(c.errors, c.requests, max);
  const verdict = decide(comparison, s);
  return {
    name: "error-rate-max",
    verdict,
    summary: `error rate ${percent(rate(c))}, at most ${percent(max)} allowed (${c.requests} requests, p=${p(comparison.pValue)})`,
    comparison,
    baseline: {},
    candidate: { errorRate: rate(c) },
  };
}

/** "p99 under X ms" is "at most 1% of requests slower than X": a proportion against a ceiling. */
function latencyMaxCheck(c: VersionSample, maxP99Ms: number, s: JudgeSettings): CheckResult {
  const n = total(c.latency);
  const comparison = againstCeiling(slowerThan(c.latency, maxP99Ms), n, 0.01);
  const verdict = decide(comparison, s);
  return {
    name: "latency-p99-max",
    verdict,
    summary: `p99 ${ms(quantile(c.latency, 0.99))}, at most ${maxP99Ms} ms allowed (${n} requests, p=${p(comparison.pValue)})`,
    comparison,
    baseline: {},
    candidate: latencyFigures(c.latency),
  };
}

/**
 * A share (e.g. shadow mismatches among compared requests) against a ceiling, sequentially:
 * fails once the evidence that the true share is above it reaches 1/α; inconclusive below
 * `minSamples`.
 */
export function judgeCeiling(
  failures: number,
  total: number,
  ceiling: number,
  s: Pick<JudgeSettings, "alpha" | "minSamples">,
): { verdict: Verdict; comparison: Comparison } {
  const comparison = againstCeiling(failures, total, ceiling);
  return { verdict: decide(comparison, s), comparison };
}

/** The mixture is as wide as the ceiling: a regression worth catching is of that order. */
function againstCeiling(failures: number, n: number, ceiling: number): Comparison {
  const tau = ceiling;
  if (n <= 0) return { baselineSamples: 0, candidateSamples: 0, effect: 0, z: 0, pValue: 1, evidence: 0 };
  const observed = failures / n;
  const effect = observed - ceiling;
  const variance = (ceiling * (1 - ceiling)) / n;
  if (variance === 0)
    return { baselineSamples: 0, candidateSamples: n, effect, z: 0, pValue: effect > 0 ? 0 : 1, evidence: 0 };
  const z = effect / Math.sqrt(variance);
  return {
    baselineSamples: 0,
    candidateSamples: n,
    effect,
    z,
    pValue: normalTail(z),
    evidence: effect > 0 ? mixtureRatio(effect, variance, tau) : 0,
  };
}

function decide(comparison: Comparison, s: Pick<JudgeSettings, "alpha" | "minSamples">): Verdict {
  const enough =
    comparison.candidateSamples >= s.minSamples &&
    (comparison.baselineSamples >= s.minSamples || comparison.baselineSamples === 0);
  if (!enough) return "inconclusive";
  return comparison.evidence >= 1 / s.alpha ? "fail" : "pass";
}

function latencyFigures(h: Histogram): Record<string, number | null> {
  return { p50Ms: quantile(h, 0.5), p99Ms: quantile(h, 0.99) };
}

function rate(v: VersionSample): number {
  return v.requests > 0 ? v.errors / v.requests : 0;
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

function ms(x: number | null): string {
  return x === null ? "-" : `${x.toFixed(1)} ms`;
}

function samples(c: Comparison): string {
  return `${c.candidateSamples} vs ${c.baselineSamples} requests`;
}

function p(x: number): string {
  return x < 0.0001 ? "<0.0001" : x.toFixed(4);
}
