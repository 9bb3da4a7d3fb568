import { describe, expect, it } from "vitest";
import { burnRate, burnRateAlerts, SliSeries, thresholdAlert, workbookBurnRateRules } from "./index.ts";

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/** One point a second from `from` to `to`, 10,000 requests each, `badShare(t)` of them bad. */
function traffic(
  from: number,
  to: number,
  badShare: (t: number) => number,
  series = new SliSeries(),
): SliSeries {
  for (let t = from + second; t <= to; t += second) {
    const bad = Math.round(10_000 * badShare(t));
    series.append({ at: t, span: second, good: 10_000 - bad, total: 10_000 });
  }
  return series;
}

/** Three healthy days before `at`, so that every window of the workbook rules is full. */
const healthyUntil = (at: number) => traffic(at - 3 * 24 * hour, at, () => 0);

describe("burn rate", () => {
  it("is the bad share over the share the objective allows", () => {
    const s = traffic(0, hour, () => 0.02);
    expect(burnRate(s, 0.99, hour, hour)).toBeCloseTo(2, 9);
    expect(burnRate(s, 0.999, 5 * minute, hour)).toBeCloseTo(20, 9);
    expect(burnRate(new SliSeries(), 0.999, hour, hour)).toBe(0);
  });

  it("uses the SRE workbook's windows and rates", () => {
    expect(
      workbookBurnRateRules.map((r) => [r.severity, r.longWindow / hour, r.shortWindow / minute, r.burnRate]),
    ).toEqual([
      ["page", 1, 5, 14.4],
      ["page", 6, 30, 6],
      ["ticket", 24, 120, 3],
      ["ticket", 72, 360, 1],
    ]);
  });
});

describe("multiwindow, multi-burn-rate alerts", () => {
  const objective = 0.999;
  const start = 10 * 24 * hour;

  it("pages within a minute of total failure (14.4x over 1 h is 2% of the budget)", () => {
    // 100% errors from `start`: the 1 h window passes 14.4x after 0.0144 h = 51.84 s.
    const series = healthyUntil(start);
    let firstPage: number | undefined;
    for (let t = start + second; t <= start + 2 * minute; t += second) {
      traffic(t - second, t, () => 1, series);
      if (burnRateAlerts(series, objective, workbookBurnRateRules, t).severity === "page") {
        firstPage = t;
        break;
      }
    }
    expect(firstPage! - start).toBe(52 * second);
  });

  it("does not fire at exactly the rate, only above it, on both windows", () => {
    // 1.43% and 1.45% errors for an hour after healthy days: 14.3x and 14.5x.
    const under = traffic(start, start + hour, () => 0.0143, healthyUntil(start));
    const quiet = burnRateAlerts(under, objective, workbookBurnRateRules, start + hour);
    expect(quiet.rules[0]!.longBurnRate).toBeCloseTo(14.3, 6);
    expect(quiet.severity).toBeNull();
    const over = traffic(start, start + hour, () => 0.0145, healthyUntil(start));
    const result = burnRateAlerts(over, objective, workbookBurnRateRules, start + hour);
    expect(result.severity).toBe("page");
    expect(result.rules[0]).toMatchObject({ firing: true });
    expect(result.rules[0]!.longBurnRate).toBeCloseTo(14.5, 6);
    // The 6 h window holds one bad hour in six: 2.4x, below 6, though its 30 m window is at 14.5x.
    expect(result.rules[1]!.longBurnRate).toBeCloseTo(14.5 / 6, 6);
    expect(result.rules[1]!.shortBurnRate).toBeCloseTo(14.5, 6);
    expect(result.rules[1]!.firing).toBe(false);
  });

  it("needs the short window too: an alert resets once the errors stop", () => {
    // 30 minutes of 10% errors (100x), then healthy: the 1 h window stays above 14.4x for
    // another half hour, but the 5 m window drops below it once it holds less than 43.2 s of
    // 10% errors (1.44% of 5 m), 4 m 16.8 s after they stop; the 6 h / 30 m rule once its
    // window holds less than 108 s of them (0.6% of 30 m), 28 m 12 s after.
    const series = traffic(start, start + 30 * minute, () => 0.1, healthyUntil(start));
    expect(burnRateAlerts(series, objective, workbookBurnRateRules, start + 30 * minute).severity).toBe(
      "page",
    );
    traffic(start + 30 * minute, start + 2 * hour, () => 0, series);
    const firing = (t: number) =>
      burnRateAlerts(series, objective, workbookBurnRateRules, t).rules.map((r) => r.firing);
    const at = (m: number, s = 0) => start + 30 * minute + m * minute + s * second;
    expect(firing(at(4, 16))).toEqual([true, true, false, false]);
    expect(firing(at(4, 17))).toEqual([false, true, false, false]);
    const after = burnRateAlerts(series, objective, workbookBurnRateRules, at(5));
    expect(after.rules[0]!.longBurnRate).toBeGreaterThan(14.4);
    expect(firing(at(28, 11))).toEqual([false, true, false, false]);
    expect(firing(at(28, 13))).toEqual([false, false, false, false]);
  });

  it("needs the long window too: a five-minute spike does not page", () => {
    // 30% errors for 2 minutes: 120x over 5 min, but 0.3 × 2/60 = 1% over the hour: 10x.
    const short = traffic(start, start + 2 * minute, () => 0.3, healthyUntil(start));
    const quiet = burnRateAlerts(short, objective, workbookBurnRateRules, start + 2 * minute);
    expect(quiet.rules[0]!.shortBurnRate).toBeCloseTo(120, 6);
    expect(quiet.rules[0]!.longBurnRate).toBeCloseTo(10, 6);
    expect(quiet.severity).toBeNull();
    // The same for 3 minutes is 15x over the hour: it pages.
    const longer = traffic(start, start + 3 * minute, () => 0.3, healthyUntil(start));
    const result = burnRateAlerts(longer, objective, workbookBurnRateRules, start + 3 * minute);
    expect(result.rules[0]!.longBurnRate).toBeCloseTo(15, 6);
    expect(result.severity).toBe("page");
  });

  it("raises a ticket for a slow burn that never pages", () => {
    // 0.35% errors for two days: 3.5x, above the 1 d/2 h ticket rule, below both page rules.
    const series = traffic(start, start + 2 * 24 * hour, () => 0.0035, healthyUntil(start));
    const result = burnRateAlerts(series, objective, workbookBurnRateRules, start + 2 * 24 * hour);
    expect(result.severity).toBe("ticket");
    expect(result.rules.map((r) => r.firing)).toEqual([false, false, true, true]);
  });

  it("reads the rules it is given (short windows, as in tests and demos)", () => {
    const rules = [
      { severity: "page" as const, longWindow: 20 * second, shortWindow: 5 * second, burnRate: 10 },
    ];
    const series = traffic(0, minute, (t) => (t > 50 * second ? 0.5 : 0));
    expect(burnRateAlerts(series, 0.99, rules, minute).severity).toBe("page");
    expect(burnRateAlerts(series, 0.99, rules, 52 * second).severity).toBeNull();
  });
});

describe("static threshold rule", () => {
  const rule = { severity: "ticket" as const, window: 5 * minute, maxBadRatio: 0.05, minEvents: 100 };

  it("fires above the ratio once enough events were seen", () => {
    const series = traffic(0, 10 * minute, () => 0.06);
    expect(thresholdAlert(series, rule, 10 * minute)).toMatchObject({ firing: true, events: 3_000_000 });
    expect(
      thresholdAlert(
        traffic(0, 10 * minute, () => 0.05),
        rule,
        10 * minute,
      ).firing,
    ).toBe(false);
  });

  it("stays quiet with too few events or none", () => {
    const few = SliSeries.of([{ at: 10 * minute, span: second, good: 0, total: 99 }]);
    expect(thresholdAlert(few, rule, 10 * minute)).toMatchObject({ firing: false, badRatio: 1, events: 99 });
    expect(thresholdAlert(new SliSeries(), rule, 10 * minute)).toMatchObject({
      firing: false,
      badRatio: null,
    });
  });
});
