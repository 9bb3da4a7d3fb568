import { dateOfDay, dayNumber, localDateTime, zonedInstant } from "../time/index.ts";

export type CalendarUnit = "day" | "week" | "month" | "quarter" | "year";

/**
 * The period an objective is measured over: the last N ms (rolling), or the current
 * calendar day, week, month, quarter or year on a time zone's wall clock.
 */
export type SloWindow =
  | { type: "rolling"; duration: number }
  | {
      type: "calendar";
      unit: CalendarUnit;
      timeZone: string;
      /** First day of a week, 0 = Sunday .. 6 = Saturday; weeks start on Monday unless said. */
      weekStart?: number;
    };

export interface WindowBounds {
  /** Events count in (from, to]. */
  from: number;
  /** Now, or the end of the period if it is over. */
  to: number;
  /** When the period ends: `to` for a rolling window, the next calendar boundary otherwise. */
  end: number;
}

/** The bounds of the window that contains `now`. */
export function windowAt(window: SloWindow, now: number): WindowBounds {
  if (window.type === "rolling") return { from: now - window.duration, to: now, end: now };
  const [from, end] = calendarPeriod(window, now);
  return { from, to: now, end };
}

/** The calendar period [start, end) containing `now`. */
export function calendarPeriod(
  window: Extract<SloWindow, { type: "calendar" }>,
  now: number,
): [number, number] {
  const tz = window.timeZone;
  const l = localDateTime(now, tz);
  const at = (y: number, m: number, d: number) => zonedInstant(y, m, d, 0, 0, 0, tz);
  switch (window.unit) {
    case "day":
      return [at(l.year, l.month, l.day), at(l.year, l.month, l.day + 1)];
    case "week": {
      const back = (l.weekday - (window.weekStart ?? 1) + 7) % 7;
      const first = dateOfDay(dayNumber(l.year, l.month, l.day) - back);
      return [at(first.year, first.month, first.day), at(first.year, first.month, first.day + 7)];
    }
    case "month":
      return [at(l.year, l.month, 1), at(l.year, l.month + 1, 1)];
    case "quarter": {
      const m = l.month - ((l.month - 1) % 3);
      return [at(l.year, m, 1), at(l.year, m + 3, 1)];
    }
    case "year":
      return [at(l.year, 1, 1), at(l.year + 1, 1, 1)];
  }
}

/** Length of the window in ms at `now` (a calendar month in March is 31 days less the DST hour). */
export function windowLength(window: SloWindow, now: number): number {
  const b = windowAt(window, now);
  return window.type === "rolling" ? window.duration : b.end - b.from;
}
