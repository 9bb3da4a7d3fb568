import { describe, expect, it } from "vitest";
import { EvaluationCounts } from "./evaluation-counts.ts";

const at = (ms: number) => new Date(ms).toISOString();

describe("evaluation counts", () => {
  it("counts per flag and variant, timed when taken, and takes them once", () => {
    const counts = new EvaluationCounts(10);
    counts.add("a", "on");
    counts.add("a", "on");
    counts.add("a", "off");
    expect(counts.pending).toBe(3);
    expect(counts.take(5000)).toEqual([
      { flagKey: "a", variant: "on", count: 2, lastAt: at(5000) },
      { flagKey: "a", variant: "off", count: 1, lastAt: at(5000) },
    ]);
    expect(counts.take(6000)).toEqual([]);
    expect(counts.pending).toBe(0);
  });

  it("holds at most maxEntries pairs; a pair unused for a whole interval makes room", () => {
    const counts = new EvaluationCounts(2);
    counts.add("a", "on");
    counts.add("b", "on");
    for (let i = 0; i < 4; i++) counts.add("c", "on");
    expect(counts.dropped).toBe(4);
    counts.take(1);
    counts.add("a", "on");
    counts.take(2); // b was not served this interval: forgotten
    counts.add("c", "on");
    expect(counts.dropped).toBe(4);
    // a was not served since the last take either: only c is reported, and a is forgotten.
    expect(counts.take(3).map((e) => e.flagKey)).toEqual(["c"]);
  });

  it("puts back a failed report with its time; new evaluations make the entry as recent as the next take", () => {
    const counts = new EvaluationCounts(10);
    counts.add("a", "on");
    counts.add("a", "on");
    counts.add("b", "on");
    const failed = counts.take(1000);
    counts.putBack(failed);
    counts.add("a", "on");
    expect(counts.take(9000)).toEqual([
      { flagKey: "a", variant: "on", count: 3, lastAt: at(9000) },
      // b was not evaluated again: its last evaluation is still the one of the failed report.
      { flagKey: "b", variant: "on", count: 1, lastAt: at(1000) },
    ]);
  });
});
