import { describe, expect, it } from "vitest";
import { strategySpec } from "../config/index.ts";
import {
  planBlueGreen,
  planRecreate,
  planRolling,
  planRollout,
  restoreTarget,
  type Step,
  type Target,
} from "./plan.ts";

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

describe("canary plan", () => {
  const strategy = strategySpec.parse({
    type: "canary",
    steps: [{ setWeight: 5 }, { analysis: "30s" }, { pause: "promote" }, { setWeight: 50 }, { pause: "1m" }],
  });
  const plan = () => planRollout({ from: "v1", to: "v2", count: 3, strategy });

  it("starts the canary beside stable without traffic, then follows its steps, then takes all traffic and stops stable", () => {
    expect(plan().map((s) => s.description)).toEqual([
      "start 3 × v2 beside v1, without traffic",
      "send 5% of traffic to v2",
      "judge v2 at 5% against v1 for 30s",
      "wait for `gantry promote`",
      "send 50% of traffic to v2",
      "pause for 60s",
      "send all traffic to v2",
      "stop v1",
    ]);
    expect(targets(plan()).map((t) => t.traffic)).toEqual([
      [{ version: "v1", weight: 100 }],
      [
        { version: "v1", weight: 95 },
        { version: "v2", weight: 5 },
      ],
      [
        { version: "v1", weight: 50 },
        { version: "v2", weight: 50 },
      ],
      [{ version: "v2", weight: 100 }],
      [{ version: "v2", weight: 100 }],
    ]);
  });

  it("keeps stable's instances running until the canary has all traffic, so an abort is one switch", () => {
    const converges = targets(plan());
    for (const t of converges.slice(0, -1)) expect(t.instances).toEqual({ v1: 3, v2: 3 });
    expect(converges.at(-1)!.instances).toEqual({ v2: 3 });
    expect(restoreTarget("v1", 3).traffic).toEqual([{ version: "v1", weight: 100 }]);
  });

  it("judges with the strategy's analysis settings and pauses for promote without an end", () => {
    const analysis = plan().find((s) => s.kind === "analysis")!;
    expect(analysis).toMatchObject({ baseline: "v1", candidate: "v2", forMs: 30_000 });
    expect(analysis.kind === "analysis" && analysis.settings).toMatchObject({ alpha: 0.01, minSamples: 20 });
    expect(plan().filter((s) => s.kind === "pause")).toMatchObject([{ forMs: null }, { forMs: 60_000 }]);
  });

  it("defaults to 1 → 5 → 25 → 50%, each judged, and a first deploy simply starts", () => {
    const defaults = planRollout({
      from: "v1",
      to: "v2",
      count: 1,
      strategy: strategySpec.parse({ type: "canary" }),
    });
    expect(defaults.filter((s) => s.kind === "analysis").map((s) => s.description)).toEqual([
      "judge v2 at 1% against v1 for 20s",
      "judge v2 at 5% against v1 for 20s",
      "judge v2 at 25% against v1 for 20s",
      "judge v2 at 50% against v1 for 20s",
    ]);
    expect(planRollout({ from: null, to: "v1", count: 2, strategy }).map((s) => s.description)).toEqual([
      "start 2 × v1",
    ]);
  });

  it("refuses an analysis before any canary traffic, naming the step", () => {
    const result = strategySpec.safeParse({
      type: "canary",
      steps: [{ analysis: "10s" }, { setWeight: 10 }],
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]).toMatchObject({
      path: ["steps", 0, "analysis"],
      message: "an analysis needs canary traffic to judge: put a setWeight above 0 before it",
    });
  });
});

describe("phased plan", () => {
  const strategy = strategySpec.parse({
    type: "phased",
    userKey: { header: "X-User-Id", cookie: "uid" },
    phases: [
      { name: "staff", match: { header: { "X-Staff": "1" } }, analysis: "30s" },
      { name: "beta", match: { users: ["ann", "bob"], cookie: { beta: ["yes", "1"] } }, pause: "promote" },
      { percent: 10, analysis: "1m", pause: "5m" },
      { percent: 50 },
    ],
  });
  const plan = () => planRollout({ from: "v1", to: "v2", count: 2, strategy });

  it("adds each phase's users to those of the phases before, then sends everyone and stops stable", () => {
    expect(plan().map((s) => s.description)).toEqual([
      "start 2 × v2 beside v1, without users",
      "phase 1: v2 for staff",
      "judge v2 for staff against v1 for 30s",
      "phase 2: v2 for beta",
      "wait for `gantry promote`",
      "phase 3: v2 for 10% of users",
      "judge v2 for 10% of users against v1 for 60s",
      "pause for 300s",
      "phase 4: v2 for 50% of users",
      "send everyone to v2",
      "stop v1",
    ]);
    const cohorts = targets(plan()).flatMap((t) =>
      typeof t.traffic === "object" && "cohorts" in t.traffic ? [t.traffic.cohorts] : [],
    );
    expect(cohorts.map((c) => [c.groups.map((g) => g.name), c.percent])).toEqual([
      [["staff"], 0],
      [["staff", "beta"], 0],
      [["staff", "beta"], 10],
      [["staff", "beta"], 50],
    ]);
    expect(cohorts[1]!.groups[1]).toEqual({
      name: "beta",
      headers: {},
      cookies: { beta: ["yes", "1"] },
      users: ["ann", "bob"],
    });
    // Header names are matched case-insensitively: stored lower case.
    expect(cohorts[0]!.groups[0]!.headers).toEqual({ "x-staff": ["1"] });
    expect(cohorts[0]).toMatchObject({ stable: "v1", candidate: "v2", salt: "v2" });
    expect(targets(plan()).at(-1)).toEqual({
      instances: { v2: 2 },
      traffic: [{ version: "v2", weight: 100 }],
      mode: "normal",
    });
  });

  it("refuses a phase with both or neither of a group and a percentage, and a shrinking percentage", () => {
    const bad = (phases: unknown[]) => strategySpec.safeParse({ type: "phased", phases });
    expect(bad([{ percent: 10, match: { users: ["a"] } }]).success).toBe(false);
    expect(bad([{ analysis: "1m" }]).success).toBe(false);
    const shrinking = bad([{ percent: 50 }, { percent: 10 }]);
    expect(shrinking.success).toBe(false);
    expect(JSON.stringify(shrinking.error?.issues)).toContain("percentages only grow");
    expect(bad([{ match: {} }]).success).toBe(false);
  });
});

describe("canary by instance schedule", () => {
  const strategy = strategySpec.parse({
    type: "canary",
    schedule: [
      { instances: 1, wait: "5m" },
      { every: "1m", until: "50%" },
      { every: "1s", until: "100%" },
    ],
    verify: [{ path: "/healthz" }],
  });
  const plan = (count: number) => planRollout({ from: "v1", to: "v2", count, strategy });

  it("upgrades one instance, waits judged, then one per interval to a share, then faster to all, verifying each", () => {
    expect(plan(4).map((s) => s.description)).toEqual([
      "start v2 (1/4)",
      "stop v1 (1/4 upgraded)",
      "verify v2 (1/4)",
      "judge v2 on 1/4 instances against v1 for 300s",
      "start v2 (2/4)",
      "stop v1 (2/4 upgraded)",
      "verify v2 (2/4)",
      "judge v2 on 2/4 instances against v1 for 60s",
      "start v2 (3/4)",
      "stop v1 (3/4 upgraded)",
      "verify v2 (3/4)",
      "wait 1s",
      "start v2 (4/4)",
      "stop v1 (4/4 upgraded)",
      "verify v2 (4/4)",
    ]);
  });

  it("never has fewer than the fleet's count ready, nor more than one extra", () => {
    for (const count of [1, 2, 3, 7, 20]) {
      for (const t of targets(plan(count))) {
        const total = Object.values(t.instances).reduce((a, b) => a + b, 0);
        expect(total).toBeGreaterThanOrEqual(count);
        expect(total).toBeLessThanOrEqual(count + 1);
      }
      expect(targets(plan(count)).at(-1)).toEqual({
        instances: { v2: count },
        traffic: [{ version: "v2", weight: 100 }],
        mode: "normal",
      });
    }
  });

  it("refuses steps and a schedule together, verify without a schedule, and a bad share", () => {
    const parse = (s: object) => strategySpec.safeParse({ type: "canary", ...s });
    expect(parse({ steps: [{ setWeight: 5 }], schedule: [{ instances: 1 }] }).success).toBe(false);
    expect(parse({ verify: [{ path: "/" }] }).success).toBe(false);
    expect(parse({ schedule: [{ every: "1m", until: "150%" }] }).success).toBe(false);
    const defaults = parse({});
    expect(defaults.success && defaults.data.type === "canary" && defaults.data.steps?.slice(0, 2)).toEqual([
      { setWeight: 1 },
      { analysis: 20_000 },
    ]);
  });
});

describe("shedding plan", () => {
  it("shifts growing shares of traffic to the new cluster, each held and judged, the old cluster stopping last", () => {
    const strategy = strategySpec.parse({ type: "shedding", shares: [20, 60], every: "30s" });
    const steps = planRollout({ from: "v1", to: "v2", count: 2, strategy });
    expect(steps.map((s) => s.description)).toEqual([
      "start 2 × v2 beside v1, without traffic",
      "shift 20% of traffic to v2's cluster",
      "judge v2 at 20% against v1 for 30s",
      "shift 60% of traffic to v2's cluster",
      "judge v2 at 60% against v1 for 30s",
      "send all traffic to v2",
      "stop v1",
    ]);
    const unjudged = strategySpec.parse({ type: "shedding", judge: false });
    expect(
      planRollout({ from: "v1", to: "v2", count: 2, strategy: unjudged }).filter(
        (s) => s.kind === "analysis",
      ),
    ).toEqual([]);
    expect(strategySpec.safeParse({ type: "shedding", shares: [50, 20] }).success).toBe(false);
  });
});

describe("shadow plan", () => {
  it("starts the candidate without users, copies traffic to it, compares, then switches or stops", () => {
    const strategy = strategySpec.parse({ type: "shadow", for: "2m", ignore: ["version"] });
    const steps = planRollout({ from: "v1", to: "v2", count: 2, strategy });
    expect(steps.map((s) => s.description)).toEqual([
      "start 2 × v2 beside v1, without users",
      "copy 100% of GET, HEAD, OPTIONS requests to v2",
      "compare v2's answers with v1's for 120s",
      "switch all traffic to v2",
      "stop v1",
    ]);
    expect(targets(steps)[1]!.traffic).toMatchObject({
      primary: "v1",
      shadow: { version: "v2", ignore: ["version"] },
    });
    const dark = strategySpec.parse({ type: "shadow", after: "stop" });
    expect(targets(planRollout({ from: "v1", to: "v2", count: 2, strategy: dark })).at(-1)).toEqual({
      instances: { v1: 2 },
      traffic: [{ version: "v1", weight: 100 }],
      mode: "normal",
    });
  });
});
