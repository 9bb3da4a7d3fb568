import { describe, expect, it } from "vitest";
import { SliSeries } from "./index.ts";

describe("SLI series", () => {
  const s = SliSeries.of([
    { at: 10, span: 10, good: 9, total: 10 },
    { at: 20, span: 10, good: 8, total: 10 },
    { at: 30, span: 10, good: 10, total: 10 },
  ]);

  it("counts the points that end inside (from, to]", () => {
    expect(s.counts(0, 30)).toEqual({ good: 27, total: 30 });
    // A point ending exactly at `from` is out, one ending exactly at `to` is in.
    expect(s.counts(10, 20)).toEqual({ good: 8, total: 10 });
    expect(s.counts(20, 20)).toEqual({ good: 0, total: 0 });
    expect(s.counts(30, 100)).toEqual({ good: 0, total: 0 });
  });

  it("counts the part of a point that straddles an edge in proportion", () => {
    expect(s.counts(15, 30)).toEqual({ good: 14, total: 15 });
    expect(s.counts(0, 25)).toEqual({ good: 22, total: 25 });
    // Entirely inside one point.
    expect(s.counts(12, 14)).toEqual({ good: 1.6, total: 2 });
  });

  it("refuses points that overlap, go back in time or count more good than total", () => {
    const t = SliSeries.of([{ at: 10, span: 10, good: 1, total: 1 }]);
    expect(() => t.append({ at: 15, span: 10, good: 1, total: 1 })).toThrow(/overlap/);
    expect(() => t.append({ at: 30, span: 0, good: 1, total: 1 })).toThrow(/span/);
    expect(() => t.append({ at: 30, span: 10, good: 2, total: 1 })).toThrow(/good <= total/);
    t.append({ at: 40, span: 10, good: 1, total: 1 }); // a gap is fine
    expect(t.counts(0, 40)).toEqual({ good: 2, total: 2 });
  });

  it("keeps counting right after old points are dropped and the arrays grew", () => {
    const t = new SliSeries();
    for (let i = 1; i <= 1000; i++)
      t.append({ at: i * 1000, span: 1000, good: i % 10 === 0 ? 0 : 1, total: 1 });
    t.dropThrough(500_000);
    expect(t.length).toBe(500);
    expect(t.firstStart).toBe(500_000);
    expect(t.counts(0, 1_000_000)).toEqual({ good: 450, total: 500 });
    expect(t.counts(900_000, 1_000_000)).toEqual({ good: 90, total: 100 });
    t.append({ at: 1_001_000, span: 1000, good: 1, total: 1 });
    expect(t.lastAt).toBe(1_001_000);
    expect(t.counts(999_000, 1_001_000)).toEqual({ good: 1, total: 2 });
  });

  it("reclaims dropped room as it goes, counting the same as a series that never dropped", () => {
    const rolling = new SliSeries();
    const whole = new SliSeries();
    for (let i = 1; i <= 20_000; i++) {
      const p = { at: i * 1000, span: 1000, good: i % 7 === 0 ? 3 : 5, total: 5 };
      rolling.append(p);
      whole.append(p);
      rolling.dropThrough((i - 300) * 1000);
      if (i % 997 === 0)
        expect(rolling.counts((i - 250) * 1000 - 500, i * 1000)).toEqual(
          whole.counts((i - 250) * 1000 - 500, i * 1000),
        );
    }
    expect(rolling.length).toBe(300);
    expect(rolling.firstStart).toBe(19_700_000);
  });
});
