import { describe, expect, it } from "vitest";
import { quantile, slowerThan } from "./histogram.ts";
import { defaultJudgeSettings, type JudgeSettings, judge, type VersionSample } from "./judge.ts";
import { groupSamples } from "./tests.ts";

/** The router's latency buckets, in ms. */
const bounds = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** A deterministic generator (mulberry32), so every run of these tests sees the same traffic. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A version's traffic: log-normal latency around `medianMs`, each request failing with `errorRate`. */
function traffic(rand: () => number, errorRate: number, medianMs: number, extraMs = 0) {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let requests = 0;
  let errors = 0;
  return {
    add(n: number) {
      const latencies: number[] = [];
      for (let i = 0; i < n; i++) {
        if (rand() < errorRate) errors++;
        const gaussian = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
        latencies.push(medianMs * Math.exp(0.5 * gaussian) + extraMs);
      }
      groupSamples(latencies, bounds).forEach((c, i) => {
        counts[i]! += c;
      });
      requests += n;
    },
    sample(): VersionSample {
      return { requests, errors, latency: { bounds, counts: [...counts] } };
    },
  };
}

interface Run {
  candidateErrorRate: number;
  baselineErrorRate?: number;
  extraMs?: number;
  seed: number;
  settings?: JudgeSettings;
}

/**
 * A canary at 5% of 400 requests/s, judged every half second (the default interval) for up
 * to two minutes: returns the time in seconds at which it failed, or null. The baseline
 * sees 1% errors and a 20 ms median.
 */
function canary({
  candidateErrorRate,
  baselineErrorRate = 0.01,
  extraMs = 0,
  seed,
  settings = defaultJudgeSettings,
}: Run): number | null {
  const rand = random(seed);
  const baseline = traffic(rand, baselineErrorRate, 20);
  const candidate = traffic(rand, candidateErrorRate, 20, extraMs);
  for (let look = 1; look <= 240; look++) {
    baseline.add(190);
    candidate.add(10);
    if (judge(baseline.sample(), candidate.sample(), settings).verdict === "fail") return look / 2;
  }
  return null;
}

describe("judging a canary against its baseline", () => {
  it("rarely fails a healthy canary however often it is judged (false alarms under α)", () => {
    const runs = 200; // of 240 looks each
    let alarms = 0;
    for (let seed = 1; seed <= runs; seed++)
      if (canary({ candidateErrorRate: 0.01, seed }) !== null) alarms++;
    expect(alarms / runs).toBeLessThanOrEqual(defaultJudgeSettings.alpha);
  });

  it("rarely fails a healthy canary when errors are rare, a few errors among a few requests", () => {
    let alarms = 0;
    for (let seed = 1; seed <= 200; seed++)
      if (canary({ candidateErrorRate: 0.001, baselineErrorRate: 0.001, seed: 6000 + seed }) !== null)
        alarms++;
    expect(alarms / 200).toBeLessThanOrEqual(defaultJudgeSettings.alpha);
  });

  it("fails a canary with 20% errors within seconds", () => {
    const seconds = Array.from({ length: 50 }, (_, i) => canary({ candidateErrorRate: 0.2, seed: 1000 + i }));
    expect(seconds.every((s) => s !== null)).toBe(true);
    // 20 requests are needed before any verdict: 1 s at 20 requests/s.
    expect(Math.max(...(seconds as number[]))).toBeLessThanOrEqual(5);
  });

  it("fails a canary that is 200 ms slower within seconds", () => {
    const seconds = Array.from({ length: 50 }, (_, i) =>
      canary({ candidateErrorRate: 0.01, extraMs: 200, seed: 2000 + i }),
    );
    expect(seconds.every((s) => s !== null && s <= 4)).toBe(true);
  });

  it("detects a modest regression (3% errors against 1%) given time: power over 90%", () => {
    const seconds = Array.from({ length: 50 }, (_, i) =>
      canary({ candidateErrorRate: 0.03, seed: 3000 + i }),
    );
    expect(seconds.filter((s) => s !== null).length / seconds.length).toBeGreaterThanOrEqual(0.9);
  });

  it("does not fail a canary that is better than its baseline", () => {
    for (let seed = 1; seed <= 20; seed++)
      expect(canary({ candidateErrorRate: 0, seed: 4000 + seed })).toBeNull();
  });

  it("ignores a difference smaller than the minimum effect, however certain", () => {
    const settings = {
      ...defaultJudgeSettings,
      errorRate: { ...defaultJudgeSettings.errorRate, minEffect: 0.05 },
    };
    // 3% against 1% is certain after two minutes, but below a 5-point minimum effect.
    for (let seed = 1; seed <= 10; seed++)
      expect(canary({ candidateErrorRate: 0.03, seed: 5000 + seed, settings })).toBeNull();
  });

  it("is inconclusive until both sides have the minimum sample", () => {
    const rand = random(7);
    const baseline = traffic(rand, 0.01, 20);
    const candidate = traffic(rand, 0.5, 20);
    baseline.add(1000);
    candidate.add(19);
    const judgement = judge(baseline.sample(), candidate.sample(), defaultJudgeSettings);
    expect(judgement.verdict).toBe("inconclusive");
    candidate.add(1);
    expect(judge(baseline.sample(), candidate.sample(), defaultJudgeSettings).verdict).toBe("fail");
  });

  it("reports each check's numbers and a line a person can read", () => {
    const rand = random(8);
    const baseline = traffic(rand, 0.01, 20);
    const candidate = traffic(rand, 0.2, 20);
    baseline.add(2000);
    candidate.add(200);
    const { verdict, checks } = judge(baseline.sample(), candidate.sample(), defaultJudgeSettings);
    expect(verdict).toBe("fail");
    const errorRate = checks.find((c) => c.name === "error-rate")!;
    expect(errorRate.verdict).toBe("fail");
    expect(errorRate.candidate.errorRate).toBeGreaterThan(0.15);
    expect(errorRate.comparison.pValue).toBeLessThan(1e-6);
    expect(errorRate.summary).toMatch(
      /^error rate \d+\.\d\d% vs baseline \d\.\d\d% \(200 vs 2000 requests, p=<0\.0001\)$/,
    );
    const latency = checks.find((c) => c.name === "latency")!;
    expect(latency.verdict).toBe("pass");
    expect(latency.summary).toContain("P(slower) 0.");
  });
});

describe("absolute ceilings", () => {
  const withCeilings: JudgeSettings = {
    ...defaultJudgeSettings,
    errorRate: { ...defaultJudgeSettings.errorRate, max: 0.05 },
    latency: { ...defaultJudgeSettings.latency, maxP99Ms: 100 },
  };

  it("fails a candidate above the error-rate ceiling even when the baseline is as bad", () => {
    const rand = random(9);
    const baseline = traffic(rand, 0.15, 20);
    const candidate = traffic(rand, 0.15, 20);
    baseline.add(2000);
    candidate.add(200);
    const { verdict, checks } = judge(baseline.sample(), candidate.sample(), withCeilings);
    expect(verdict).toBe("fail");
    expect(checks.find((c) => c.name === "error-rate")!.verdict).toBe("pass");
    expect(checks.find((c) => c.name === "error-rate-max")!.verdict).toBe("fail");
  });

  it("fails a candidate whose p99 is over the ceiling and passes one under it", () => {
    const rand = random(10);
    const baseline = traffic(rand, 0, 20);
    const slow = traffic(rand, 0, 20, 150);
    const fine = traffic(rand, 0, 20);
    baseline.add(2000);
    slow.add(200);
    fine.add(200);
    expect(judge(baseline.sample(), slow.sample(), withCeilings).checks.at(-1)).toMatchObject({
      name: "latency-p99-max",
      verdict: "fail",
    });
    expect(judge(baseline.sample(), fine.sample(), withCeilings).verdict).toBe("pass");
  });
});

describe("histograms", () => {
  const h = { bounds: [10, 20, 50], counts: [50, 30, 20, 0] };

  it("interpolate quantiles inside a bucket as histogram_quantile does", () => {
    expect(quantile(h, 0.5)).toBe(10);
    expect(quantile(h, 0.65)).toBe(15);
    expect(quantile(h, 0.99)).toBeCloseTo(48.5, 10);
    expect(quantile({ bounds: [10], counts: [0, 0] }, 0.5)).toBeNull();
  });

  it("count samples slower than a limit, splitting the straddling bucket", () => {
    expect(slowerThan(h, 20)).toBe(20);
    expect(slowerThan(h, 35)).toBe(10);
    expect(slowerThan({ bounds: [10], counts: [5, 3] }, 1000)).toBe(3);
  });
});
