import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.ts";

describe("reconnect backoff", () => {
  it("doubles from the base up to the cap", () => {
    const top = (attempt: number) => backoffDelay(attempt, 1000, 30_000, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 40].map(top)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("waits between half and all of the schedule, spread by the random draw", () => {
    expect(backoffDelay(2, 1000, 30_000, () => 0)).toBe(2000);
    expect(backoffDelay(2, 1000, 30_000, () => 0.5)).toBe(3000);
    const draws = Array.from({ length: 1000 }, () => backoffDelay(3, 1000, 30_000));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(4000);
    expect(Math.max(...draws)).toBeLessThanOrEqual(8000);
    // Spread out, not a handful of values: a fleet does not reconnect in lockstep.
    expect(new Set(draws).size).toBeGreaterThan(500);
  });
});
