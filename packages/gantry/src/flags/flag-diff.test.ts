import { describe, expect, it } from "vitest";
import { describeChange, diffValues } from "./flag-diff.ts";

describe("diffValues", () => {
  it("finds nothing between equal values, whatever their key order", () => {
    expect(diffValues({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it("names the deepest changed field with its path", () => {
    const before = { environments: { production: { enabled: false, rules: [{ variant: "on" }] } } };
    const after = { environments: { production: { enabled: true, rules: [{ variant: "off" }] } } };
    expect(diffValues(before, after)).toEqual([
      { path: "environments.production.enabled", before: false, after: true },
      { path: "environments.production.rules[0].variant", before: "on", after: "off" },
    ]);
  });

  it("reports added and removed fields and array elements with one side absent", () => {
    expect(diffValues({ a: 1, rules: [1] }, { b: 2, rules: [1, 3] })).toEqual([
      { path: "a", before: 1 },
      { path: "rules[1]", after: 3 },
      { path: "b", after: 2 },
    ]);
    expect(diffValues({ rules: [1, 2] }, { rules: [1] })).toEqual([{ path: "rules[1]", before: 2 }]);
  });

  it("reports a rule inserted at the top as one addition, not as every rule changed", () => {
    const r = (v: string) => ({ clauses: [{ attribute: "c", operator: "in", values: [v] }], variant: v });
    expect(diffValues([r("a"), r("b")], [r("new"), r("a"), r("b")], "rules")).toEqual([
      { path: "rules[0]", after: r("new") },
    ]);
    expect(diffValues([r("a"), r("b"), r("c")], [r("a"), r("c")], "rules")).toEqual([
      { path: "rules[1]", before: r("b") },
    ]);
  });

  it("reports swapped elements as a move: one removed, one added", () => {
    expect(diffValues(["x", "y"], ["y", "x"], "rules")).toEqual([
      { path: "rules[0]", before: "x" },
      { path: "rules[1]", after: "x" },
    ]);
  });

  it("reports a change of kind as the whole value", () => {
    expect(diffValues({ v: { x: 1 } }, { v: [1] })).toEqual([{ path: "v", before: { x: 1 }, after: [1] }]);
    expect(diffValues(1, 2)).toEqual([{ path: "(root)", before: 1, after: 2 }]);
  });

  it("describes a change in one line", () => {
    expect(describeChange({ path: "enabled", before: false, after: true })).toBe("enabled: false → true");
    expect(describeChange({ path: "rules[1]", after: { variant: "on" } })).toBe(
      'rules[1]: (none) → {"variant":"on"}',
    );
  });
});
