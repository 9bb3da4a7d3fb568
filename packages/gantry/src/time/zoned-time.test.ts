import { describe, expect, it } from "vitest";
import { dayNumber, isTimeZone, localDateTime, zonedInstant, zoneOffset } from "./index.ts";

const utc = (iso: string) => Date.parse(iso);

describe("wall clocks of time zones", () => {
  it("reads the local date and time of an instant", () => {
    expect(localDateTime(utc("2026-07-01T08:30:15Z"), "Europe/London")).toEqual({
      year: 2026,
      month: 7,
      day: 1,
      hour: 9,
      minute: 30,
      second: 15,
      weekday: 3,
    });
    expect(localDateTime(utc("2026-01-01T03:00:00Z"), "America/New_York")).toMatchObject({
      year: 2025,
      month: 12,
      day: 31,
      hour: 22,
      weekday: 3,
    });
  });

  it("finds the instant of a local time on either side of a change", () => {
    // London: GMT until 2026-03-29 01:00 UTC, BST until 2026-10-25 01:00 UTC.
    expect(zonedInstant(2026, 3, 28, 9, 0, 0, "Europe/London")).toBe(utc("2026-03-28T09:00:00Z"));
    expect(zonedInstant(2026, 3, 30, 9, 0, 0, "Europe/London")).toBe(utc("2026-03-30T08:00:00Z"));
    expect(zonedInstant(2026, 11, 2, 9, 0, 0, "America/New_York")).toBe(utc("2026-11-02T14:00:00Z"));
    expect(zonedInstant(2026, 10, 30, 9, 0, 0, "America/New_York")).toBe(utc("2026-10-30T13:00:00Z"));
  });

  it("moves a time skipped by spring-forward past the gap", () => {
    // 01:30 does not exist in London on 2026-03-29 (01:00 → 02:00): it is taken as 02:30 BST.
    expect(zonedInstant(2026, 3, 29, 1, 30, 0, "Europe/London")).toBe(utc("2026-03-29T01:30:00Z"));
    expect(localDateTime(utc("2026-03-29T01:30:00Z"), "Europe/London")).toMatchObject({
      hour: 2,
      minute: 30,
    });
    // New York 2026-03-08 02:00 → 03:00: 02:30 is 03:30 EDT.
    expect(zonedInstant(2026, 3, 8, 2, 30, 0, "America/New_York")).toBe(utc("2026-03-08T07:30:00Z"));
  });

  it("takes the first of a time that happens twice in the autumn", () => {
    // 01:30 happens at 00:30 UTC (BST) and 01:30 UTC (GMT) in London on 2026-10-25.
    expect(zonedInstant(2026, 10, 25, 1, 30, 0, "Europe/London")).toBe(utc("2026-10-25T00:30:00Z"));
    // New York 2026-11-01: 01:30 EDT (05:30 UTC) before 01:30 EST.
    expect(zonedInstant(2026, 11, 1, 1, 30, 0, "America/New_York")).toBe(utc("2026-11-01T05:30:00Z"));
  });

  it("rolls days and minutes over, and knows offsets and zones", () => {
    expect(zonedInstant(2026, 1, 32, 0, 0, 0, "UTC")).toBe(utc("2026-02-01T00:00:00Z"));
    expect(zonedInstant(2026, 1, 1, 0, 24 * 60, 0, "UTC")).toBe(utc("2026-01-02T00:00:00Z"));
    expect(zoneOffset(utc("2026-07-01T00:00:00Z"), "America/New_York")).toBe(-4 * 3_600_000);
    expect(zoneOffset(utc("2026-12-01T00:00:00Z"), "America/New_York")).toBe(-5 * 3_600_000);
    expect(dayNumber(1970, 1, 2)).toBe(1);
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
  });
});
