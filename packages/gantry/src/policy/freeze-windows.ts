import type { FreezeSpec, Weekday } from "../config/index.ts";
import { weekdays } from "../config/index.ts";

const minutesPerDay = 1440;

/** The local weekday and minute of the day of an instant in a time zone. */
export function localClock(at: Date, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const day = weekdays.indexOf(get("weekday").toLowerCase().slice(0, 3) as Weekday);
  return { day, minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

function minuteOf(text: string): number {
  const [h, m] = text.split(":").map(Number);
  return h! * 60 + m!;
}

function dayClock(text: string): number {
  const [day, time] = text.split(" ");
  return weekdays.indexOf(day as Weekday) * minutesPerDay + minuteOf(time!);
}

/**
 * Whether a freeze is in force at an instant. Recurring windows are read on the wall clock of
 * their time zone, so "fri 15:00" stays 15:00 local across daylight-saving changes.
 */
export function freezeInForce(freeze: FreezeSpec, at: Date): boolean {
  if (freeze.once)
    return Date.parse(freeze.once.from) <= at.getTime() && at.getTime() < Date.parse(freeze.once.to);
  const { day, minute } = localClock(at, freeze.timezone);
  if (freeze.weekly) {
    const now = day * minutesPerDay + minute;
    const from = dayClock(freeze.weekly.from);
    const to = dayClock(freeze.weekly.to);
    return from <= to ? from <= now && now < to : now >= from || now < to;
  }
  if (freeze.daily) {
    const from = minuteOf(freeze.daily.from);
    const to = minuteOf(freeze.daily.to);
    const startsOn = (d: number) => freeze.daily!.days.includes(weekdays[(d + 7) % 7]!);
    if (from < to) return startsOn(day) && from <= minute && minute < to;
    // Crosses midnight: in force late on a start day, or early on the day after one.
    return (startsOn(day) && minute >= from) || (startsOn(day - 1) && minute < to);
  }
  return false;
}

/** The freezes in force now for a service (global ones name no services). */
export function activeFreezes<F extends { spec: FreezeSpec }>(freezes: F[], service: string, at: Date): F[] {
  return freezes.filter(
    (f) => (f.spec.services.length === 0 || f.spec.services.includes(service)) && freezeInForce(f.spec, at),
  );
}
