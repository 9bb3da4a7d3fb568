/**
 * Wall clocks of IANA time zones, from Intl alone: the local date and time of an instant, and
 * the instant of a local date and time. Rotations, restrictions and calendar windows are read
 * on the wall clock, so that "Monday 09:00" stays 09:00 local across daylight-saving changes.
 */
export interface LocalDateTime {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      hourCycle: "h23",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const weekdayIndex: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Whether Node knows a time zone by this IANA name. */
export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock of a time zone at an instant (ms since the epoch). */
export function localDateTime(at: number, timeZone: string): LocalDateTime {
  const parts = formatter(timeZone).formatToParts(at);
  const out: Record<string, string> = {};
  for (const p of parts) out[p.type] = p.value;
  return {
    year: Number(out.year),
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour),
    minute: Number(out.minute),
    second: Number(out.second),
    weekday: weekdayIndex[out.weekday!]!,
  };
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
export function zoneOffset(at: number, timeZone: string): number {
  const l = localDateTime(at, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/**
 * The instant a wall-clock time happens in a zone. A time skipped by a spring-forward gap is
 * taken as the instant the clock jumped over it plus the time past the gap's start (02:30 in a
 * 02:00→03:00 gap is 03:30), and a time that happens twice in an autumn overlap is its first
 * occurrence, as Temporal's "compatible" disambiguation does. Days and months out of range
 * roll over (day 32 of January is 1 February).
 */
export function zonedInstant(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  timeZone = "UTC",
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // The offset a few hours either side is the offset before and after any transition near.
  const before = zoneOffset(wall - 86_400_000, timeZone);
  const after = zoneOffset(wall + 86_400_000, timeZone);
  const candidates = [wall - before, wall - after].filter((t) => zoneOffset(t, timeZone) === wall - t);
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: read the wall time with the offset from before the jump.
  return wall - before;
}

/** Days from 1970-01-01 to a calendar date (no time zone involved). */
export function dayNumber(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / 86_400_000);
}

/** The calendar date of a day number. */
export function dateOfDay(dayNo: number): { year: number; month: number; day: number } {
  const d = new Date(dayNo * 86_400_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
