import type { WindowCounts } from "./sli-series.ts";
import { type SloWindow, windowAt } from "./slo-window.ts";

export interface ErrorBudget {
  /** The window's bounds: events in (from, to]; `end` is when a calendar period ends. */
  from: number;
  to: number;
  end: number;
  good: number;
  total: number;
  bad: number;
  /** good / total, null without events. */
  sli: number | null;
  objective: number;
  /** Bad events the objective allows for the events seen so far: (1 - objective) × total. */
  allowedBad: number;
  /** Share of the budget spent: bad / allowedBad (above 1 when the objective is missed). 0 without events. */
  consumed: number;
  /** 1 - consumed: below 0 once the budget is overspent. */
  remaining: number;
}

/**
 * The error budget of an objective (0 < objective < 1, e.g. 0.999) over its window at `now`.
 * The budget is the bad events the objective allows among the events actually served in the
 * window; for a calendar window, the events of the period so far.
 */
export function errorBudget(
  series: WindowCounts,
  objective: number,
  window: SloWindow,
  now: number,
): ErrorBudget {
  const { from, to, end } = windowAt(window, now);
  const { good, total } = series.counts(from, to);
  const bad = Math.max(0, total - good);
  const allowedBad = (1 - objective) * total;
  const consumed =
    total === 0 ? 0 : allowedBad === 0 ? (bad > 0 ? Number.POSITIVE_INFINITY : 0) : bad / allowedBad;
  return {
    from,
    to,
    end,
    good,
    total,
    bad,
    sli: total === 0 ? null : good / total,
    objective,
    allowedBad,
    consumed,
    remaining: 1 - consumed,
  };
}
