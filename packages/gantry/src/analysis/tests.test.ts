import { describe, expect, it } from "vitest";
import { normalUpperTail } from "./normal.ts";
import { compareDistributions, compareProportions, groupSamples } from "./tests.ts";

describe("the normal upper tail", () => {
  it("matches tabulated values, far into the tail", () => {
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 7);
    expect(normalUpperTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalUpperTail(2.326348)).toBeCloseTo(0.01, 6);
    expect(normalUpperTail(-1.644854)).toBeCloseTo(0.95, 6);
    // 1 − Φ(8) = 6.22e-16: still a number, not 0.
    expect(normalUpperTail(8) / 6.220960574e-16).toBeCloseTo(1, 5);
  });
});

describe("comparing error rates", () => {
  it("gives the textbook two-proportion z", () => {
    // 30/1000 vs 50/1000: pooled 0.04, se = sqrt(0.04·0.96·0.002) = 0.008764, z = 2.282.
    const c = compareProportions({ failures: 30, total: 1000 }, { failures: 50, total: 1000 });
    expect(c.z).toBeCloseTo(2.282, 3);
    expect(c.pValue).toBeCloseTo(0.01124, 4);
    expect(c.effect).toBeCloseTo(0.02, 10);
    expect(c.evidence).toBeGreaterThan(1);
  });

  it("finds no evidence when the candidate is better or nothing failed", () => {
    expect(compareProportions({ failures: 50, total: 1000 }, { failures: 10, total: 1000 }).evidence).toBe(0);
    const none = compareProportions({ failures: 0, total: 1000 }, { failures: 0, total: 100 });
    expect(none).toMatchObject({ pValue: 1, evidence: 0, effect: 0 });
    expect(compareProportions({ failures: 0, total: 0 }, { failures: 3, total: 3 }).evidence).toBe(0);
  });
});

describe("comparing latency distributions", () => {
  it("counts U as pairs where the candidate is slower, ties half, as brute force does", () => {
    const baseline = [3, 1, 4, 1, 5, 9, 2, 6];
    const candidate = [5, 3, 5, 8, 9, 7];
    let pairs = 0;
    for (const c of candidate) for (const b of baseline) pairs += c > b ? 1 : c === b ? 0.5 : 0;
    const values = [...new Set([...baseline, ...candidate])].sort((a, b) => a - b);
    const bounds = values.slice(0, -1);
    const result = compareDistributions(groupSamples(baseline, bounds), groupSamples(candidate, bounds));
    expect(result.effect + 0.5).toBeCloseTo(pairs / (baseline.length * candidate.length), 12);
    expect(result.baselineSamples).toBe(8);
    expect(result.candidateSamples).toBe(6);
  });

  it("gives the tie-corrected normal approximation", () => {
    // Every sample in one bucket: no information at all.
    expect(compareDistributions([10, 0], [5, 0])).toMatchObject({ effect: 0, pValue: 1, evidence: 0 });
    // All candidate samples above all baseline ones: U = nb·nc, effect ½.
    const apart = compareDistributions([20, 0], [0, 20]);
    expect(apart.effect).toBe(0.5);
    expect(apart.pValue).toBeLessThan(1e-8);
  });

  it("refuses histograms with different buckets", () => {
    expect(() => compareDistributions([1, 2], [1, 2, 3])).toThrow(/bucket counts differ/);
  });

  it("groups samples by inclusive upper bounds", () => {
    expect(groupSamples([0, 1, 1.5, 2, 2.1, 100], [1, 2])).toEqual([2, 2, 2]);
  });
});
