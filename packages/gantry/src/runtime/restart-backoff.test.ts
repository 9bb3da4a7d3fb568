import { describe, expect, it } from "vitest";
import { crashesAfterExit, DEFAULT_BACKOFF, restartDelayMs } from "./restart-backoff.ts";

describe("restart backoff", () => {
  it("doubles from 0.5 s and stops growing at 30 s", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => restartDelayMs(n, DEFAULT_BACKOFF));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it("counts quick crashes in a row and forgives one after a long enough run", () => {
    expect(crashesAfterExit(0, 100, DEFAULT_BACKOFF)).toBe(1);
    expect(crashesAfterExit(5, 29_999, DEFAULT_BACKOFF)).toBe(6);
    expect(crashesAfterExit(5, 30_000, DEFAULT_BACKOFF)).toBe(1);
  });
});
