import { describe, expect, it } from "vitest";
import { parseIsoDate } from "./iso-date.ts";

describe("ISO 8601 dates", () => {
  it.each([
    ["2025-03-01", Date.UTC(2025, 2, 1)],
    ["2025-03-01T09:30Z", Date.UTC(2025, 2, 1, 9, 30)],
    ["2025-03-01T09:30:15Z", Date.UTC(2025, 2, 1, 9, 30, 15)],
    ["2025-03-01T09:30:15.25Z", Date.UTC(2025, 2, 1, 9, 30, 15, 250)],
    ["2025-03-01T09:30:15.123456789Z", Date.UTC(2025, 2, 1, 9, 30, 15, 123)],
    ["2025-03-01T10:30:00+01:00", Date.UTC(2025, 2, 1, 9, 30)],
    ["2025-03-01T00:30:00-05:30", Date.UTC(2025, 2, 1, 6, 0)],
    ["2024-02-29", Date.UTC(2024, 1, 29)],
  ])("reads %s", (text, millis) => {
    expect(parseIsoDate(text)).toBe(millis);
  });

  it("reads years before 100 as written, not as 19xx", () => {
    expect(new Date(parseIsoDate("0052-03-01")!).getUTCFullYear()).toBe(52);
    expect(parseIsoDate("0000-02-29")).not.toBeNull(); // year 0 is a leap year, 1900 is not
  });

  it.each([
    "2025-03-01T09:30:00",
    "2025-02-29",
    "2024-02-30",
    "2025-04-31",
    "2025-13-01",
    "2025-00-10",
    "2025-03-01T24:00:00Z",
    "2025-03-01T09:60Z",
    "2025-3-1",
    "20250301",
    "2025-03-01 09:30Z",
    "2025-03-01T09:30:00+0100",
    "yesterday",
  ])("refuses %j", (text) => expect(parseIsoDate(text)).toBeNull());
});
