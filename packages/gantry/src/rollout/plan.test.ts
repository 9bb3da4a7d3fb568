import { describe, expect, it } from "vitest";
import { planBlueGreen, planRecreate, planRolling, planRollout, type Step, type Target } from "./plan.ts";

const targets = (steps: Step[]): Target[] => steps.flatMap((s) => (s.kind === "converge" ? [s.target] : []));

describe("rolling plan", () => {
  it("never has fewer ready instances than count - maxUnavailable, nor more than count + maxSurge", () => {
    for (const count of [1, 2, 3, 5, 8]) {
      for (const [surge, unavailable] of [
        [1, 0],
        [0, 1],
        [2, 1],
        [3, 0],
        [1, 2],
      ] as const) {
        const steps = planRolling(
          {
            from: "v1",
            to: "v2",
            count,
            strategy: { type: "rolling", during: "normal", maxSurge: surge, maxUnavailable: unavailable },
          },
          surge,
          unavailable,
        );
        const last = targets(steps).at(-1)!;
        expect(last.instances).toEqual({ v2: count });
        expect(last.traffic).toEqual([{ version: "v2", weight: 100 }]);
        for (const t of targets(steps)) {
          const total = (t.instances.v1 ?? 0) + (t.instances.v2 ?? 0);
          expect(total).toBeLessThanOrEqual(count + surge);
          expect(total).toBeGreaterThanOrEqual(Math.max(0, count - unavailable));
        }
      }
    }
  });

  it("starts a new instance before an old one leaves when maxUnavailable is 0", () => {
    const steps = targets(
      planRolling(
        {
          from: "v1",
          to: "v2",
          count: 2,
          strategy: { type: "rolling", during: "normal", maxSurge: 1, maxUnavailable: 0 },
        },
        1,
        0,
      ),
    );
    expect(steps.map((t) => t.instances)).toEqual([
      { v1: 2, v2: 1 },
      { v1: 1, v2: 1 },
      { v1: 1, v2: 2 },
      { v2: 2 },
    ]);
  });

  it("is a single start on a first deploy", () => {
    expect(
      targets(
        planRolling(
          {
            from: null,
            to: "v1",
            count: 3,
            strategy: { type: "rolling", during: "normal", maxSurge: 1, maxUnavailable: 0 },
          },
          1,
          0,
        ),
      ),
    ).toEqual([{ instances: { v1: 3 }, traffic: [{ version: "v1", weight: 100 }], mode: "normal" }]);
  });
});

describe("recreate plan", () => {
  it("shows the maintenance page before the old version stops and until the new one is up", () => {
    const steps = targets(planRecreate({ from: "v1", to: "v2", count: 2, strategy: { type: "recreate" } }));
    expect(steps.map((t) => [t.mode, t.instances])).toEqual([
      ["maintenance", { v1: 2 }],
      ["maintenance", {}],
      ["normal", { v2: 2 }],
    ]);
  });
});

describe("a rollout in read-only mode", () => {
  it("turns read-only on before the first change and off with the last switch", () => {
    const steps = planRollout({
      from: "v1",
      to: "v2",
      count: 2,
      strategy: { type: "rolling", during: "read-only", maxSurge: 1, maxUnavailable: 0 },
    });
    const modes = targets(steps).map((t) => t.mode);
    expect(modes[0]).toBe("read-only");
    expect(targets(steps)[0]!.instances).toEqual({ v1: 2 });
    expect(modes.slice(0, -1).every((m) => m === "read-only")).toBe(true);
    expect(modes.at(-1)).toBe("normal");
  });
});

describe("blue-green plan", () => {
  it("runs both colours, smoke-checks the new one, switches, and keeps the old one idle", () => {
    const steps = planBlueGreen(
      {
        from: "v1",
        to: "v2",
        count: 2,
        strategy: { type: "blue-green", during: "normal", idleFor: 60_000, smoke: [] },
      },
      [{ path: "/", expectStatus: 200, timeout: 1000 }],
      60_000,
    );
    expect(steps.map((s) => s.kind)).toEqual(["converge", "smoke", "converge", "keep-idle"]);
    const [first, switched] = targets(steps);
    expect(first!.instances).toEqual({ v1: 2, v2: 2 });
    expect(first!.traffic).toEqual([{ version: "v1", weight: 100 }]);
    expect(switched!.traffic).toEqual([{ version: "v2", weight: 100 }]);
  });
});
