import { describe, expect, it } from "vitest";
import { scheduleTime } from "../cli/commands/flags-schedule.ts";
import { dueChanges } from "./flag-schedules.ts";

const pending = (id: number, at: string, status = "pending") => ({ id, at, status });

describe("scheduled changes", () => {
  it("are due at their time, not a millisecond before, and run oldest first (ties by id)", () => {
    const list = [
      pending(3, "2026-05-01T10:00:00.000Z"),
      pending(1, "2026-05-01T10:00:00.001Z"),
      pending(2, "2026-05-01T09:00:00.000Z"),
      pending(4, "2026-05-01T10:00:00.000Z"),
      pending(5, "2026-05-01T08:00:00.000Z", "cancelled"),
    ];
    expect(dueChanges(list, new Date("2026-05-01T09:59:59.999Z")).map((s) => s.id)).toEqual([2]);
    expect(dueChanges(list, new Date("2026-05-01T10:00:00.000Z")).map((s) => s.id)).toEqual([2, 3, 4]);
    expect(dueChanges(list, new Date("2026-06-01T00:00:00.000Z")).map((s) => s.id)).toEqual([2, 3, 4, 1]);
  });

  it("are given a time with its zone, or a duration from now", () => {
    const now = new Date("2026-05-01T10:00:00.000Z");
    expect(scheduleTime({ in: "90m" }, now).toISOString()).toBe("2026-05-01T11:30:00.000Z");
    expect(scheduleTime({ at: "2026-05-02T09:00+02:00" }, now).toISOString()).toBe(
      "2026-05-02T07:00:00.000Z",
    );
    expect(() => scheduleTime({ at: "2026-05-02T09:00" }, now)).toThrow(/with a zone/);
    expect(() => scheduleTime({}, now)).toThrow(/--at TIME/);
    expect(() => scheduleTime({ in: "soon" }, now)).toThrow(/not a duration/);
  });
});
