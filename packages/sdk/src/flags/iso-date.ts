const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/;

/**
 * Milliseconds since the epoch of a strict ISO 8601 date (`2025-03-01`, read as midnight
 * UTC) or date-time with an explicit offset (`2025-03-01T09:30:00Z`, `...+01:00`), or null.
 * A date-time without an offset is refused: it would mean a different instant on every
 * machine. Impossible dates such as `2025-02-30` are refused too.
 */
export function parseIsoDate(text: string): number | null {
  const m = ISO_DATE.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 10, 11].map(
    (group) => Number(m[group] ?? 0),
  ) as [number, number, number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  const millis = Math.floor(Number(`0.${m[7] ?? "0"}`) * 1000);
  const offset = (m[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  // Date.UTC reads years 0–99 as 1900–1999, so the year is set separately.
  const utc = new Date(Date.UTC(2000, 0, 1, hour, minute, second, millis)).setUTCFullYear(
    year,
    month - 1,
    day,
  );
  return utc - offset * 60_000;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
