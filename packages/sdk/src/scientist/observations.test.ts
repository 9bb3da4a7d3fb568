import { describe, expect, it } from "vitest";
import { deepEqual } from "./deep-equal.ts";
import { RecordingPublisher } from "./recording-publisher.ts";
import { Scientist } from "./scientist.ts";

/** Spins until this much wall time has passed. */
const spinWall = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
  return ms;
};
/** Spins until this much CPU time has been used, however often the process is preempted. */
const burnCpu = (ms: number) => {
  const start = process.cpuUsage();
  while (process.cpuUsage(start).user < ms * 1000) {}
  return ms;
};
const sleep = (ms: number) => new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms));

describe("observations", () => {
  it("measure wall time below the millisecond and CPU time for every behaviour", () => {
    const publisher = new RecordingPublisher();
    new Scientist({ publisher }).scienceSync("timed", (e) => {
      e.use(() => spinWall(0.3));
      e.try(() => burnCpu(3));
    });
    const { control, candidates } = publisher.results[0]!;
    expect(control.durationMs).toBeGreaterThanOrEqual(0.3);
    expect(Number.isInteger(control.durationMs)).toBe(false);
    expect(control.cpuMs).toBeGreaterThan(0);
    expect(candidates[0]!.cpuMs).toBeGreaterThanOrEqual(3);
  });

  it("count waiting as wall time but not as CPU time", async () => {
    const publisher = new RecordingPublisher();
    await new Scientist({ publisher }).science("waiting", (e) => {
      e.use(() => sleep(30));
      e.try(() => sleep(1).then(() => 30));
    });
    const { control } = publisher.results[0]!;
    expect(control.durationMs).toBeGreaterThanOrEqual(29);
    expect(control.cpuMs).toBeLessThan(control.durationMs / 2);
  });

  it("stamp the result with the wall-clock time the run started", () => {
    const publisher = new RecordingPublisher();
    const before = Date.now();
    new Scientist({ publisher }).scienceSync("stamped", (e) => {
      e.use(() => 1);
      e.try(() => 1);
    });
    expect(publisher.results[0]!.startedAt).toBeGreaterThanOrEqual(before - 5);
    expect(publisher.results[0]!.startedAt).toBeLessThanOrEqual(Date.now() + 5);
  });
});

describe("deepEqual (the default compare)", () => {
  it("agrees with strict deep equality on the shapes behaviours return", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    const cyclic2: Record<string, unknown> = { a: 1 };
    cyclic2["self"] = cyclic2;
    const holey: unknown[] = [1];
    holey[2] = 3;
    const cases: [unknown, unknown, boolean][] = [
      [1, 1, true],
      [Number.NaN, Number.NaN, true],
      [0, -0, false],
      ["1", 1, false],
      [null, undefined, false],
      [{ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }, true],
      [{ a: 1, b: undefined }, { a: 1 }, false],
      [holey, [1, undefined, 3], false],
      [[1, 2], [1, 2, 3], false],
      [new Date(5), new Date(5), true],
      [new Date(5), new Date(6), false],
      [new Map([["k", { v: 1 }]]), new Map([["k", { v: 1 }]]), true],
      [new Set([1, 2]), new Set([2, 1]), true],
      [{ a: 1 }, Object.assign(Object.create(null), { a: 1 }), false],
      [cyclic, cyclic2, true],
    ];
    for (const [a, b, equal] of cases) expect([a, b, deepEqual(a, b)]).toEqual([a, b, equal]);
  });
});
