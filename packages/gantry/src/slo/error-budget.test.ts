import { describe, expect, it } from "vitest";
import { calendarPeriod, errorBudget, SliSeries, windowAt, windowLength } from "./index.ts";

const utc = (iso: string) => Date.parse(iso);
const day = 86_400_000;

describe("error budget", () => {
  it("is the bad events the objective allows among those served in a rolling window", () => {
    const now = utc("2026-06-30T00:00:00Z");
    const series = SliSeries.of([
      // Outside the 28 days (ends exactly at the window's start): not counted.
      { at: now - 28 * day, span: day, good: 0, total: 1_000_000 },
      { at: now - 10 * day, span: day, good: 999_500, total: 1_000_000 },
    ]);
    const budget = errorBudget(series, 0.999, { type: "rolling", duration: 28 * day }, now);
    expect(budget).toMatchObject({ from: now - 28 * day, to: now, total: 1_000_000, bad: 500, sli: 0.9995 });
    expect(budget.allowedBad).toBeCloseTo(1000, 6);
    expect(budget.consumed).toBeCloseTo(0.5, 9);
    expect(budget.remaining).toBeCloseTo(0.5, 9);
  });

  it("is overspent (remaining below 0) when the objective is missed, and whole without traffic", () => {
    const now = 100 * day;
    const series = SliSeries.of([{ at: now, span: day, good: 990, total: 1000 }]);
    const missed = errorBudget(series, 0.999, { type: "rolling", duration: 7 * day }, now);
    expect(missed.consumed).toBeCloseTo(10, 6);
    expect(missed.remaining).toBeCloseTo(-9, 6);
    const idle = errorBudget(new SliSeries(), 0.999, { type: "rolling", duration: 7 * day }, now);
    expect(idle).toMatchObject({ sli: null, consumed: 0, remaining: 1, total: 0 });
  });

  it("counts a calendar month from its first local midnight, so far", () => {
    const now = utc("2026-03-15T12:00:00Z");
    const window = { type: "calendar", unit: "month", timeZone: "Europe/London" } as const;
    const series = SliSeries.of([
      { at: utc("2026-02-28T23:59:00Z"), span: 60_000, good: 0, total: 100 }, // February: out
      { at: utc("2026-03-01T00:01:00Z"), span: 60_000, good: 90, total: 100 },
      { at: utc("2026-03-15T12:00:00Z"), span: 60_000, good: 100, total: 100 },
    ]);
    const budget = errorBudget(series, 0.99, window, now);
    expect(budget).toMatchObject({
      from: utc("2026-03-01T00:00:00Z"),
      to: now,
      end: utc("2026-03-31T23:00:00Z"), // midnight of 1 April, in BST
      total: 200,
      bad: 10,
    });
    expect(budget.consumed).toBeCloseTo(5, 6);
    // March in London is 31 days less the hour the clocks skip.
    expect(windowLength(window, now)).toBe(31 * day - 3_600_000);
  });

  it("finds calendar days, weeks, quarters and years in a time zone, DST changes included", () => {
    const ny = "America/New_York";
    // 2026-11-01 is 25 hours long in New York.
    const [dFrom, dTo] = calendarPeriod(
      { type: "calendar", unit: "day", timeZone: ny },
      utc("2026-11-01T12:00:00Z"),
    );
    expect([dFrom, dTo]).toEqual([utc("2026-11-01T04:00:00Z"), utc("2026-11-02T05:00:00Z")]);
    // Weeks start on Monday unless said; Sunday 2026-03-08 belongs to the week of Monday 2 March.
    const week = calendarPeriod(
      { type: "calendar", unit: "week", timeZone: ny },
      utc("2026-03-08T20:00:00Z"),
    );
    expect(week).toEqual([utc("2026-03-02T05:00:00Z"), utc("2026-03-09T04:00:00Z")]);
    const sundayWeek = calendarPeriod(
      { type: "calendar", unit: "week", timeZone: ny, weekStart: 0 },
      utc("2026-03-08T20:00:00Z"),
    );
    expect(sundayWeek[0]).toBe(utc("2026-03-08T05:00:00Z"));
    expect(
      calendarPeriod({ type: "calendar", unit: "quarter", timeZone: "UTC" }, utc("2026-05-20T00:00:00Z")),
    ).toEqual([utc("2026-04-01T00:00:00Z"), utc("2026-07-01T00:00:00Z")]);
    // New Year's Eve in New York is already next year in UTC.
    expect(
      calendarPeriod({ type: "calendar", unit: "year", timeZone: ny }, utc("2027-01-01T03:00:00Z")),
    ).toEqual([utc("2026-01-01T05:00:00Z"), utc("2027-01-01T05:00:00Z")]);
  });

  it("starts a new calendar period exactly at local midnight", () => {
    const window = { type: "calendar", unit: "day", timeZone: "Europe/London" } as const;
    const midnight = utc("2026-07-01T23:00:00Z"); // 00:00 BST on 2 July
    expect(windowAt(window, midnight - 1).from).toBe(utc("2026-06-30T23:00:00Z"));
    expect(windowAt(window, midnight).from).toBe(midnight);
    const series = SliSeries.of([
      { at: midnight, span: 60_000, good: 0, total: 10 }, // ends at midnight: yesterday's
      { at: midnight + 60_000, span: 60_000, good: 10, total: 10 },
    ]);
    expect(errorBudget(series, 0.9, window, midnight + 60_000)).toMatchObject({ total: 10, bad: 0 });
  });
});
