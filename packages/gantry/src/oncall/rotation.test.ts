import { describe, expect, it } from "vitest";
import { layerActive, onCallAt, type RotationLayer, type Schedule, shifts, turnAt } from "./index.ts";

const utc = (iso: string) => Date.parse(iso);
const hour = 3_600_000;
const weekdays = [1, 2, 3, 4, 5];

function layer(overrides: Partial<RotationLayer>): RotationLayer {
  return {
    name: "primary",
    participants: ["alice", "bob", "carol"],
    turn: { unit: "days", count: 7 },
    start: { year: 2026, month: 3, day: 2 }, // a Monday
    handoff: 9 * 60,
    timeZone: "Europe/London",
    restrictions: [],
    ...overrides,
  };
}

describe("rotation turns", () => {
  it("hands a weekly turn over at 09:00 local on both sides of the spring change (167 h turn)", () => {
    const weekly = layer({});
    // Turns: alice from Mon 2 Mar, bob from Mon 9, carol from Mon 16, alice from Mon 23 09:00 GMT.
    const before = turnAt(weekly, utc("2026-03-23T09:00:00Z"))!;
    expect(before).toMatchObject({ index: 3, person: "alice", from: utc("2026-03-23T09:00:00Z") });
    // Clocks go forward on Sunday 29 March: the next handoff is 09:00 BST = 08:00 UTC.
    expect(before.to).toBe(utc("2026-03-30T08:00:00Z"));
    expect(before.to - before.from).toBe(167 * hour);
    expect(turnAt(weekly, utc("2026-03-30T07:59:59Z"))!.person).toBe("alice");
    expect(turnAt(weekly, utc("2026-03-30T08:00:00Z"))!.person).toBe("bob");
  });

  it("makes the turn over the autumn change 169 h long", () => {
    const weekly = layer({ start: { year: 2026, month: 10, day: 19 } });
    const turn = turnAt(weekly, utc("2026-10-26T08:59:00Z"))!;
    expect(turn).toMatchObject({
      person: "alice",
      from: utc("2026-10-19T08:00:00Z"),
      to: utc("2026-10-26T09:00:00Z"),
    });
    expect(turn.to - turn.from).toBe(169 * hour);
  });

  it("keeps daily turns in New York at their local time when a handoff time happens twice", () => {
    // Handoff 01:30; on 1 November 2026 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST).
    const daily = layer({
      timeZone: "America/New_York",
      turn: { unit: "days", count: 1 },
      handoff: 90,
      start: { year: 2026, month: 10, day: 30 },
      participants: ["ann", "ben"],
    });
    const saturday = turnAt(daily, utc("2026-10-31T12:00:00Z"))!;
    expect(saturday).toMatchObject({
      person: "ben",
      from: utc("2026-10-31T05:30:00Z"),
      to: utc("2026-11-01T05:30:00Z"),
    });
    const sunday = turnAt(daily, utc("2026-11-01T06:00:00Z"))!;
    // Ann's Sunday turn takes the first 01:30 and lasts until 01:30 EST on Monday: 25 hours.
    expect(sunday).toMatchObject({
      person: "ann",
      from: utc("2026-11-01T05:30:00Z"),
      to: utc("2026-11-02T06:30:00Z"),
    });
  });

  it("starts a turn whose handoff falls in the spring gap once the clock has jumped", () => {
    const daily = layer({
      timeZone: "America/New_York",
      turn: { unit: "days", count: 1 },
      handoff: 2 * 60 + 30,
      start: { year: 2026, month: 3, day: 7 },
      participants: ["ann", "ben"],
    });
    // 02:30 does not exist on 8 March 2026: ben's turn starts at 03:30 EDT (07:30 UTC).
    expect(turnAt(daily, utc("2026-03-08T07:29:00Z"))!.person).toBe("ann");
    expect(turnAt(daily, utc("2026-03-08T07:30:00Z"))).toMatchObject({
      person: "ben",
      to: utc("2026-03-09T06:30:00Z"),
    });
  });

  it("counts turns of hours in elapsed time, so the local handoff moves with the clocks", () => {
    const twelveHours = layer({
      turn: { unit: "hours", count: 12 },
      handoff: 8 * 60,
      start: { year: 2026, month: 3, day: 28 },
    });
    // 08:00 GMT Saturday + 24 h = 08:00 UTC Sunday = 09:00 BST.
    expect(turnAt(twelveHours, utc("2026-03-29T08:00:00Z"))).toMatchObject({ index: 2, person: "carol" });
    expect(turnAt(twelveHours, utc("2026-03-29T07:59:59Z"))).toMatchObject({ index: 1, person: "bob" });
  });

  it("has nobody before the first turn", () => {
    expect(turnAt(layer({}), utc("2026-03-02T08:59:59Z"))).toBeNull();
    expect(turnAt(layer({ participants: [] }), utc("2026-06-02T08:59:59Z"))).toBeNull();
  });
});

describe("restrictions", () => {
  const businessHours = layer({
    timeZone: "America/New_York",
    restrictions: [{ days: weekdays, from: 9 * 60, to: 17 * 60 }],
  });

  it("covers weekdays 09–17 local, on either side of a DST weekend", () => {
    // Friday 6 March 2026 is EST (UTC-5); Monday 9 March is EDT (UTC-4).
    expect(layerActive(businessHours, utc("2026-03-06T21:59:59Z"))).toBe(true); // 16:59:59
    expect(layerActive(businessHours, utc("2026-03-06T22:00:00Z"))).toBe(false); // 17:00
    expect(layerActive(businessHours, utc("2026-03-07T17:00:00Z"))).toBe(false); // Saturday noon
    expect(layerActive(businessHours, utc("2026-03-09T12:59:59Z"))).toBe(false); // 08:59:59 EDT
    expect(layerActive(businessHours, utc("2026-03-09T13:00:00Z"))).toBe(true); // 09:00 EDT
  });

  it("covers nights that cross midnight, starting on the listed days", () => {
    const nights = layer({ restrictions: [{ days: [5], from: 17 * 60, to: 9 * 60 }] }); // Friday night only
    expect(layerActive(nights, utc("2026-03-06T16:59:00Z"))).toBe(false);
    expect(layerActive(nights, utc("2026-03-06T17:00:00Z"))).toBe(true);
    expect(layerActive(nights, utc("2026-03-07T08:59:00Z"))).toBe(true); // Saturday morning, still Friday's
    expect(layerActive(nights, utc("2026-03-07T17:30:00Z"))).toBe(false); // Saturday night: not listed
  });
});

describe("schedules", () => {
  const schedule: Schedule = {
    name: "web",
    layers: [
      layer({ name: "weekly", participants: ["alice", "bob"] }),
      layer({
        name: "day-shift",
        participants: ["dan"],
        turn: { unit: "days", count: 1 },
        restrictions: [{ days: weekdays, from: 9 * 60, to: 17 * 60 }],
      }),
    ],
    overrides: [{ person: "erin", from: utc("2026-03-04T12:00:00Z"), to: utc("2026-03-04T14:00:00Z") }],
  };

  it("lets a later layer win where it has someone, and an override win over all", () => {
    expect(onCallAt(schedule, utc("2026-03-04T08:00:00Z"))).toEqual({ person: "alice", layer: "weekly" });
    expect(onCallAt(schedule, utc("2026-03-04T10:00:00Z"))).toEqual({ person: "dan", layer: "day-shift" });
    expect(onCallAt(schedule, utc("2026-03-04T13:00:00Z"))).toEqual({ person: "erin", layer: null });
    expect(onCallAt(schedule, utc("2026-03-07T13:00:00Z"))).toEqual({ person: "alice", layer: "weekly" });
    expect(onCallAt(schedule, utc("2026-03-01T13:00:00Z"))).toBeNull();
  });

  it("renders the final schedule as shifts with their edges", () => {
    const day = shifts(schedule, utc("2026-03-04T00:00:00Z"), utc("2026-03-05T00:00:00Z"));
    expect(
      day.map((s) => [
        s.person,
        new Date(s.from).toISOString().slice(11, 16),
        new Date(s.to).toISOString().slice(11, 16),
      ]),
    ).toEqual([
      ["alice", "00:00", "09:00"],
      ["dan", "09:00", "12:00"],
      ["erin", "12:00", "14:00"],
      ["dan", "14:00", "17:00"],
      ["alice", "17:00", "00:00"],
    ]);
  });

  it("leaves out stretches when nobody is on call and merges a person's consecutive turns", () => {
    const only = { name: "x", layers: [schedule.layers[1]!], overrides: [] };
    const week = shifts(only, utc("2026-03-09T00:00:00Z"), utc("2026-03-16T00:00:00Z"));
    expect(week).toHaveLength(5);
    expect(week.every((s) => s.to - s.from === 8 * hour && s.person === "dan")).toBe(true);
    const one = {
      name: "y",
      layers: [layer({ participants: ["solo"], turn: { unit: "days", count: 1 } })],
      overrides: [],
    };
    expect(shifts(one, utc("2026-03-09T00:00:00Z"), utc("2026-03-16T00:00:00Z"))).toEqual([
      {
        person: "solo",
        layer: "primary",
        from: utc("2026-03-09T00:00:00Z"),
        to: utc("2026-03-16T00:00:00Z"),
      },
    ]);
  });
});
