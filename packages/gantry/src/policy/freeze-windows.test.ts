import { describe, expect, it } from "vitest";
import { type FreezeSpec, freezeSpec } from "../config/index.ts";
import { activeFreezes, freezeInForce } from "./freeze-windows.ts";

const freeze = (input: Record<string, unknown>): FreezeSpec => freezeSpec.parse({ name: "f", ...input });
const at = (iso: string) => new Date(iso);

describe("freeze windows", () => {
  const weekend = freeze({ timezone: "Europe/Berlin", weekly: { from: "fri 15:00", to: "mon 08:00" } });

  it("holds a weekly window from Friday afternoon to Monday morning, local time", () => {
    expect(freezeInForce(weekend, at("2026-11-20T13:59:00Z"))).toBe(false); // Fri 14:59 Berlin
    expect(freezeInForce(weekend, at("2026-11-20T14:00:00Z"))).toBe(true); // Fri 15:00 Berlin
    expect(freezeInForce(weekend, at("2026-11-22T12:00:00Z"))).toBe(true); // Sunday
    expect(freezeInForce(weekend, at("2026-11-23T06:59:00Z"))).toBe(true); // Mon 07:59 Berlin
    expect(freezeInForce(weekend, at("2026-11-23T07:00:00Z"))).toBe(false); // Mon 08:00 Berlin
  });

  it("keeps local wall-clock times across daylight-saving changes", () => {
    // Summer (UTC+2): Friday 15:00 Berlin is 13:00 UTC; winter (UTC+1) it is 14:00 UTC.
    expect(freezeInForce(weekend, at("2026-07-03T13:00:00Z"))).toBe(true);
    expect(freezeInForce(weekend, at("2026-07-03T12:59:00Z"))).toBe(false);
    // The weekend DST ends (25 Oct 2026): Monday 08:00 is then 07:00 UTC.
    expect(freezeInForce(weekend, at("2026-10-26T06:59:00Z"))).toBe(true);
    expect(freezeInForce(weekend, at("2026-10-26T07:00:00Z"))).toBe(false);
  });

  it("holds nightly windows that cross midnight on the days they start", () => {
    const nights = freeze({
      timezone: "America/New_York",
      daily: { from: "18:00", to: "08:00", days: ["mon", "tue", "wed", "thu"] },
    });
    expect(freezeInForce(nights, at("2026-11-23T23:30:00Z"))).toBe(true); // Mon 18:30 New York
    expect(freezeInForce(nights, at("2026-11-24T12:30:00Z"))).toBe(true); // Tue 07:30
    expect(freezeInForce(nights, at("2026-11-24T13:00:00Z"))).toBe(false); // Tue 08:00
    expect(freezeInForce(nights, at("2026-11-28T01:00:00Z"))).toBe(false); // Fri 20:00: Friday is not a start day
  });

  it("holds a one-off window between two instants", () => {
    const holidays = freeze({ once: { from: "2026-12-24T00:00:00+01:00", to: "2027-01-02T00:00:00+01:00" } });
    expect(freezeInForce(holidays, at("2026-12-31T12:00:00Z"))).toBe(true);
    expect(freezeInForce(holidays, at("2027-01-01T23:00:00Z"))).toBe(false);
  });

  it("applies global freezes to every service and others only to theirs", () => {
    const all = { spec: freeze({ once: { from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z" } }) };
    const webOnly = {
      spec: freeze({ services: ["web"], once: { from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z" } }),
    };
    expect(activeFreezes([all, webOnly], "api", at("2026-06-01T00:00:00Z"))).toEqual([all]);
    expect(activeFreezes([all, webOnly], "web", at("2026-06-01T00:00:00Z"))).toHaveLength(2);
  });

  it("refuses a freeze with no window, two windows, or an unknown time zone", () => {
    expect(freezeSpec.safeParse({ name: "x" }).success).toBe(false);
    expect(
      freezeSpec.safeParse({
        name: "x",
        weekly: { from: "fri 15:00", to: "mon 08:00" },
        daily: { from: "18:00", to: "08:00" },
      }).success,
    ).toBe(false);
    expect(
      freezeSpec.safeParse({
        name: "x",
        timezone: "Mars/Olympus",
        weekly: { from: "fri 15:00", to: "mon 08:00" },
      }).success,
    ).toBe(false);
  });
});
