import { describe, expect, it } from "vitest";
import {
  type EscalationPolicy,
  escalationSteps,
  exhaustedAt,
  nextStep,
  recipients,
  type Schedule,
  stepsDue,
} from "./index.ts";

const minute = 60_000;

const policy: EscalationPolicy = {
  name: "web",
  levels: [
    { targets: [{ schedule: "primary" }], delay: 5 * minute },
    { targets: [{ person: "lead" }, { schedule: "primary" }], delay: 10 * minute },
  ],
  repeat: 1,
};

describe("escalation", () => {
  it("pages each level after the previous level's delay, then repeats the policy", () => {
    expect(escalationSteps(policy, 0).map((s) => [s.round, s.level, s.at / minute])).toEqual([
      [0, 0, 0],
      [0, 1, 5],
      [1, 0, 15],
      [1, 1, 20],
    ]);
    expect(exhaustedAt(policy, 0)).toBe(30 * minute);
    expect(escalationSteps({ ...policy, repeat: 0 }, 0)).toHaveLength(2);
  });

  it("has a step due exactly at its time, not a millisecond before", () => {
    expect(stepsDue(policy, 1000, 1000 + 5 * minute - 1)).toHaveLength(1);
    expect(stepsDue(policy, 1000, 1000 + 5 * minute)).toHaveLength(2);
    expect(nextStep(policy, 1000, 1000 + 5 * minute)).toMatchObject({
      round: 1,
      level: 0,
      at: 1000 + 15 * minute,
    });
    expect(nextStep(policy, 1000, 1000 + 20 * minute)).toBeNull();
    expect(stepsDue(policy, 1000, 1000 + 60 * minute)).toHaveLength(4);
  });

  it("pages whoever a schedule has on call at the step, once per person", () => {
    const schedule: Schedule = {
      name: "primary",
      layers: [],
      overrides: [
        { person: "lead", from: 0, to: 10 * minute },
        { person: "amy", from: 10 * minute, to: 60 * minute },
      ],
    };
    const schedules = new Map([["primary", schedule]]);
    const level1 = policy.levels[1]!.targets;
    expect(recipients(level1, schedules, 5 * minute)).toEqual({
      recipients: [{ person: "lead", via: null }],
      missing: [],
    });
    expect(recipients(level1, schedules, 15 * minute).recipients).toEqual([
      { person: "lead", via: null },
      { person: "amy", via: { schedule: "primary", layer: null } },
    ]);
    expect(recipients(level1, schedules, 90 * minute)).toEqual({
      recipients: [{ person: "lead", via: null }],
      missing: ["primary"],
    });
    expect(recipients([{ schedule: "nope" }], schedules, 0).missing).toEqual(["nope"]);
  });
});
