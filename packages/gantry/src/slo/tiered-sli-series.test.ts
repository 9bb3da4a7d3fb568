import { describe, expect, it } from "vitest";
import { SliSeries } from "./sli-series.ts";
import { TieredSliSeries } from "./tiered-sli-series.ts";

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

function feed(target: { append: SliSeries["append"] }, from: number, to: number, step: number) {
  for (let t = from + step; t <= to; t += step) {
    const total = 100 + ((t / step) % 7);
    const bad = (t / step) % 13 === 0 ? 20 : (t / step) % 3;
    target.append({ at: t, span: step, good: total - bad, total });
  }
}

/** Appends every point to both series. */
const both = (a: { append: SliSeries["append"] }, b: { append: SliSeries["append"] }) => ({
  append: (p: Parameters<SliSeries["append"]>[0]) => {
    a.append(p);
    b.append(p);
  },
});

describe("tiered SLI series", () => {
  const settings = { coarse: 5 * minute, fineFor: 2 * hour, retention: 4 * day };

  it("answers windows inside the fine tier exactly, and longer ones from coarse buckets", () => {
    const tiered = new TieredSliSeries(settings);
    const flat = new SliSeries();
    const end = 3 * day;
    feed(both(tiered, flat), 0, end, 10 * second);
    // Fine: the last two hours at 10 s, coarse: 5-minute buckets before.
    expect(tiered.finePoints).toBeLessThanOrEqual(2 * 360 + 30 + 1);
    expect(tiered.coarsePoints).toBeLessThanOrEqual((3 * day) / (5 * minute));
    for (const w of [5 * minute, 30 * minute, hour, 90 * minute]) {
      const a = tiered.counts(end - w - 3 * second, end);
      const b = flat.counts(end - w - 3 * second, end);
      expect(a.good).toBeCloseTo(b.good, 6);
      expect(a.total).toBeCloseTo(b.total, 6);
    }
    // Windows starting on a coarse boundary are exact too, whatever their length.
    for (const w of [6 * hour, day, 3 * day]) {
      expect(tiered.counts(end - w, end)).toEqual(flat.counts(end - w, end));
    }
    // Elsewhere a coarse bucket is prorated: off by less than one bucket's events.
    const a = tiered.counts(end - day - 2 * minute, end);
    const b = flat.counts(end - day - 2 * minute, end);
    expect(Math.abs(a.total - b.total)).toBeLessThan(5 * 30 * 107);
  });

  it("forgets buckets older than the retention", () => {
    const tiered = new TieredSliSeries({ ...settings, retention: day });
    feed(tiered, 0, 3 * day, minute);
    expect(tiered.counts(0, day).total).toBe(0);
    expect(tiered.counts(2 * day, 3 * day).total).toBeGreaterThan(0);
    expect(tiered.coarsePoints).toBeLessThanOrEqual(day / (5 * minute) + 2);
  });

  it("restores from stored points and goes on", () => {
    const original = new TieredSliSeries(settings);
    const flat = new SliSeries();
    feed(both(original, flat), 0, day, 10 * second);
    const c = original.rolledThrough!;
    const points = flat.points();
    const coarse: { at: number; span: number; good: number; total: number }[] = [];
    for (let end = 5 * minute; end <= c; end += 5 * minute) {
      coarse.push({ at: end, span: 5 * minute, ...flat.counts(end - 5 * minute, end) });
    }
    const restored = TieredSliSeries.restore(settings, coarse, points, c);
    expect(restored.counts(0, day)).toEqual(original.counts(0, day));
    feed(both(restored, original), day, day + hour, 10 * second);
    expect(restored.counts(hour, day + hour)).toEqual(original.counts(hour, day + hour));
  });
});
