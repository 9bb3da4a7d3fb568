import { describe, expect, it } from "vitest";
import { type BisectStep, maxChecks, nextStep, recordCheck, startBisect } from "./bisect.ts";

/** Runs a bisection to its end against a check given as a function of the prefix. */
function run(changes: number, passes: (prefix: number) => boolean): { step: BisectStep; prefixes: number[] } {
  let state = startBisect(changes);
  const prefixes: number[] = [];
  for (;;) {
    const step = nextStep(state);
    if (step.kind !== "check") return { step, prefixes };
    prefixes.push(step.prefix);
    state = recordCheck(state, step.prefix, passes(step.prefix));
  }
}

describe("bisecting flag changes", () => {
  it("names the change that brings the regression in, for every window size up to 70 and every position", () => {
    for (let n = 1; n <= 70; n++) {
      for (let culprit = 1; culprit <= n; culprit++) {
        const { step, prefixes } = run(n, (prefix) => prefix < culprit);
        expect(step, `n=${n} culprit=${culprit}`).toMatchObject({ kind: "found", change: culprit });
        expect(prefixes.length, `n=${n} culprit=${culprit}`).toBeLessThanOrEqual(maxChecks(n));
        expect(new Set(prefixes).size).toBe(prefixes.length);
      }
    }
  });

  it("takes at most 5 checks for 16 changes, and proves a culprit in the middle by both neighbours", () => {
    expect(maxChecks(16)).toBe(5);
    const { step, prefixes } = run(16, (prefix) => prefix < 11);
    expect(step).toEqual({ kind: "found", change: 11, proof: { passedWithout: true, failedWith: true } });
    expect(prefixes).toEqual([8, 12, 10, 11]);
  });

  it("checks the live state when the answer would be the last change, and reports a check that does not see the regression", () => {
    expect(run(16, (prefix) => prefix < 16)).toMatchObject({ step: { kind: "found", change: 16 } });
    expect(run(16, (prefix) => prefix < 16).prefixes.at(-1)).toBe(16);
    const blind = run(16, () => true);
    expect(blind.step).toMatchObject({ kind: "not-a-flag", reason: expect.stringContaining("does not see") });
    expect(blind.prefixes.length).toBeLessThanOrEqual(5);
  });

  it("checks the state before the window when the answer would be the first change, and reports a regression that is not a flag's", () => {
    expect(run(16, (prefix) => prefix < 1)).toMatchObject({ step: { kind: "found", change: 1 } });
    expect(run(16, (prefix) => prefix < 1).prefixes.at(-1)).toBe(0);
    const notFlags = run(16, () => false);
    expect(notFlags.step).toMatchObject({ kind: "not-a-flag", reason: expect.stringContaining("reverted") });
    expect(notFlags.prefixes.length).toBeLessThanOrEqual(5);
  });

  it("with a single change, spends its one check on reverting it", () => {
    expect(run(1, (prefix) => prefix < 1)).toEqual({
      step: { kind: "found", change: 1, proof: { passedWithout: true, failedWith: false } },
      prefixes: [0],
    });
    expect(run(1, () => false).step.kind).toBe("not-a-flag");
  });

  it("an empty window has nothing to bisect", () => {
    expect(nextStep(startBisect(0))).toEqual({ kind: "nothing-to-bisect" });
    expect(maxChecks(0)).toBe(0);
  });

  it("refuses to record a check it did not ask for", () => {
    expect(() => recordCheck(startBisect(16), 3, true)).toThrow(/prefix 8/);
    expect(() => startBisect(-1)).toThrow(RangeError);
  });
});
