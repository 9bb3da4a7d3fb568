import { describe, expect, it } from "vitest";
import { EvaluationCounts } from "./evaluation-counts.ts";

describe("evaluation counts", () => {
  it("counts per flag and variant with the last time, and takes them once", () => {
    const counts = new EvaluationCounts(10);
    counts.add("a", "on", 1, 1000);
    counts.add("a", "on", 1, 3000);
    counts.add("a", "off", 1, 2000);
    expect(counts.pending).toBe(3);
    expect(counts.take()).toEqual([
      { flagKey: "a", variant: "on", count: 2, lastAt: new Date(3000).toISOString() },
      { flagKey: "a", variant: "off", count: 1, lastAt: new Date(2000).toISOString() },
    ]);
    expect(counts.take()).toEqual([]);
    expect(counts.pending).toBe(0);
  });

  it("holds at most maxEntries pairs; a pair unused for a whole interval makes room", () => {
    const counts = new EvaluationCounts(2);
    counts.add("a", "on", 1, 0);
    counts.add("b", "on", 1, 0);
    counts.add("c", "on", 4, 0);
    expect(counts.dropped).toBe(4);
    counts.take();
    counts.add("a", "on", 1, 0);
    counts.take(); // b unused this interval: forgotten
    counts.add("c", "on", 1, 0);
    expect(counts.dropped).toBe(4);
    // a was not served since the last take either: only c is reported, and a is forgotten.
    expect(counts.take().map((e) => e.flagKey)).toEqual(["c"]);
  });

  it("puts back a failed report, merging with what was counted meanwhile", () => {
    const counts = new EvaluationCounts(10);
    counts.add("a", "on", 2, 1000);
    const taken = counts.take();
    counts.add("a", "on", 1, 5000);
    counts.putBack(taken);
    expect(counts.take()).toEqual([
      { flagKey: "a", variant: "on", count: 3, lastAt: new Date(5000).toISOString() },
    ]);
  });
});
