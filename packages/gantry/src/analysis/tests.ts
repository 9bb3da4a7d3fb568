import { normalUpperTail } from "./normal.ts";

/**
 * Canary-versus-baseline statistics. Each test is one-sided: it asks only whether the
 * candidate is WORSE (more errors, slower), since a better candidate is never a reason to
 * roll back. Each reports, besides a fixed-sample p-value, the evidence of a mixture
 * sequential probability ratio test (mSPRT, Johari et al., "Always Valid Inference",
 * 2017): a likelihood ratio that may be looked at after every new sample, as a rollout
 * does, while keeping the false-alarm rate under α when rejecting as soon as it reaches 1/α
 * (Ville's inequality). A fixed-sample p-value checked every few seconds would not: with
 * enough looks, any healthy canary would eventually be rolled back.
 */
export interface Comparison {
  /** Samples on each side. */
  baselineSamples: number;
  candidateSamples: number;
  /** The observed difference in the test's own scale (rate difference; P(slower) − ½). */
  effect: number;
  /** Standard score of the effect under "no difference". */
  z: number;
  /** One-sided p-value of a test at this sample size alone (for reporting). */
  pValue: number;
  /** mSPRT likelihood ratio for "the candidate is worse"; 0 when the effect points the other way. */
  evidence: number;
}

export interface Proportion {
  /** Requests that failed (e.g. 5xx). */
  failures: number;
  total: number;
}

/**
 * Error rates: the two-proportion z-test with a pooled variance, and its mSPRT with a
 * normal mixture of standard deviation `tau` over the rate difference (the size of
 * regression worth catching fast; default one percentage point). With a `margin`, the
 * question becomes "worse by more than the margin": z, p-value and evidence are those of the
 * effect minus the margin, so a small but certain difference is not a regression.
 */
export function compareProportions(
  baseline: Proportion,
  candidate: Proportion,
  tau = 0.01,
  margin = 0,
): Comparison {
  const nb = baseline.total;
  const nc = candidate.total;
  if (nb <= 0 || nc <= 0) return noComparison(nb, nc);
  const pb = baseline.failures / nb;
  const pc = candidate.failures / nc;
  const pooled = (baseline.failures + candidate.failures) / (nb + nc);
  const variance = pooled * (1 - pooled) * (1 / nb + 1 / nc);
  const effect = pc - pb;
  if (variance === 0) return { ...noComparison(nb, nc), effect };
  const z = (effect - margin) / Math.sqrt(variance);
  return {
    baselineSamples: nb,
    candidateSamples: nc,
    effect,
    z,
    pValue: normalUpperTail(z),
    evidence: effect > margin ? mixtureRatio(effect - margin, variance, tau) : 0,
  };
}

/**
 * Latency: the Mann–Whitney U test on grouped data (histogram buckets with the same bounds on
 * both sides; a bucket is a group of ties, so a million requests cost as much as the number
 * of buckets), with the tie-corrected variance and a continuity correction. The effect is
 * P(a candidate request is slower than a baseline one) − ½ (ties counting half): 0 for the
 * same distribution, ½ when every candidate request is slower. The mSPRT mixes over that
 * effect with standard deviation `tau` (default 0.05); `margin` as for error rates.
 */
export function compareDistributions(
  baseline: readonly number[],
  candidate: readonly number[],
  tau = 0.05,
  margin = 0,
): Comparison {
  if (baseline.length !== candidate.length)
    throw new RangeError(`bucket counts differ: baseline ${baseline.length}, candidate ${candidate.length}`);
  let nb = 0;
  let nc = 0;
  for (let i = 0; i < baseline.length; i++) {
    nb += baseline[i]!;
    nc += candidate[i]!;
  }
  if (nb <= 0 || nc <= 0) return noComparison(nb, nc);
  const n = nb + nc;
  // Rank sum of the candidate, with each bucket's ties given their average rank.
  let below = 0;
  let rankSum = 0;
  let ties = 0;
  for (let i = 0; i < baseline.length; i++) {
    const t = baseline[i]! + candidate[i]!;
    if (t === 0) continue;
    rankSum += candidate[i]! * (below + (t + 1) / 2);
    ties += t * t * t - t;
    below += t;
  }
  const u = rankSum - (nc * (nc + 1)) / 2;
  const mean = (nb * nc) / 2;
  const variance = ((nb * nc) / 12) * (n + 1 - ties / (n * (n - 1)));
  const effect = u / (nb * nc) - 0.5;
  if (variance <= 0) return { ...noComparison(nb, nc), effect };
  const shift = u - mean - margin * nb * nc;
  const corrected = shift === 0 ? 0 : shift - Math.sign(shift) * 0.5;
  const z = corrected / Math.sqrt(variance);
  const effectVariance = variance / (nb * nc) ** 2;
  return {
    baselineSamples: nb,
    candidateSamples: nc,
    effect,
    z,
    pValue: normalUpperTail(z),
    evidence: effect > margin ? mixtureRatio(effect - margin, effectVariance, tau) : 0,
  };
}

/** Groups raw samples into counts over shared bounds (upper bounds, inclusive; one more group above the last). */
export function groupSamples(samples: readonly number[], bounds: readonly number[]): number[] {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const s of samples) {
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s <= bounds[mid]!) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  return counts;
}

/**
 * The normal-mixture likelihood ratio of an asymptotically normal effect estimate with
 * variance `variance`, mixing N(0, tau²) over the true effect (Johari et al., eq. 9).
 * Computed in logs and capped, so huge evidence is a large finite number.
 */
export function mixtureRatio(effect: number, variance: number, tau: number): number {
  const t2 = tau * tau;
  const log =
    0.5 * Math.log(variance / (variance + t2)) + (t2 * effect * effect) / (2 * variance * (variance + t2));
  return Math.exp(Math.min(log, 700));
}

function noComparison(nb: number, nc: number): Comparison {
  return {
    baselineSamples: Math.max(nb, 0),
    candidateSamples: Math.max(nc, 0),
    effect: 0,
    z: 0,
    pValue: 1,
    evidence: 0,
  };
}
