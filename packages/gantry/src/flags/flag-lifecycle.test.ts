import { describe, expect, it } from "vitest";
import { lifecycleOf, staleFlags, type UsageRow } from "./flag-lifecycle.ts";

const now = new Date("2026-06-30T12:00:00.000Z");
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();
const row = (
  flagKey: string,
  environment: string,
  variant: string,
  first: number,
  last: number,
): UsageRow => ({
  flagKey,
  environment,
  variant,
  count: 10,
  firstAt: daysAgo(first),
  lastAt: daysAgo(last),
});

describe("stale flags", () => {
  it("reports a flag never evaluated once it is older than the window, not before", () => {
    const flags = [
      { key: "old", createdAt: daysAgo(40) },
      { key: "young", createdAt: daysAgo(5) },
    ];
    expect(staleFlags({ flags, usage: [], now, days: 30 })).toEqual([
      {
        flagKey: "old",
        reason: "never-evaluated",
        detail: "never evaluated since it was created 40 days ago",
        lastEvaluatedAt: null,
      },
    ]);
  });

  it("reports a flag nobody has evaluated within the window", () => {
    const found = staleFlags({
      flags: [{ key: "gone", createdAt: daysAgo(100) }],
      usage: [row("gone", "production", "on", 90, 45)],
      now,
      days: 30,
    });
    expect(found).toMatchObject([
      { flagKey: "gone", reason: "not-evaluated", detail: "not evaluated for 45 days" },
    ]);
  });

  it("reports a flag that served one variant in every environment for the whole window", () => {
    const found = staleFlags({
      flags: [{ key: "done", createdAt: daysAgo(100) }],
      usage: [
        row("done", "production", "on", 80, 0),
        row("done", "staging", "on", 70, 1),
        row("done", "production", "off", 80, 31),
      ],
      now,
      days: 30,
    });
    expect(found).toMatchObject([{ flagKey: "done", reason: "one-variant", variant: "on" }]);
  });

  it("keeps a flag that served two variants within the window, or whose data is younger than the window", () => {
    const usage = [
      row("split", "production", "on", 80, 0),
      row("split", "staging", "off", 80, 2),
      row("new", "production", "on", 10, 0),
    ];
    const flags = [
      { key: "split", createdAt: daysAgo(100) },
      { key: "new", createdAt: daysAgo(10) },
    ];
    expect(staleFlags({ flags, usage, now, days: 30 })).toEqual([]);
  });
});

describe("lifecycle", () => {
  it("gives the last evaluation and what each environment served", () => {
    const lifecycle = lifecycleOf([row("f", "production", "on", 3, 2), row("f", "staging", "off", 5, 1)]);
    expect(lifecycle.lastEvaluatedAt).toBe(daysAgo(1));
    expect(lifecycle.served.production!.on!.count).toBe(10);
    expect(Object.keys(lifecycle.served)).toEqual(["production", "staging"]);
  });
});
