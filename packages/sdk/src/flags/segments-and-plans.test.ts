import { describe, expect, it } from "vitest";
import { evaluate } from "./evaluate.ts";
import { booleanFlag, compiled } from "./fixtures.ts";
import type { FlagSetInput } from "./model.ts";

const SEGMENTS: FlagSetInput["segments"] = {
  staff: {
    rules: [
      [{ attribute: "email", operator: "endsWith", values: ["@gantry.dev"], caseInsensitive: true }],
      [
        { attribute: "role", operator: "in", values: ["contractor"] },
        { attribute: "country", operator: "equals", values: ["DK"] },
      ],
    ],
    included: ["friend-1", "both-lists"],
    excluded: ["leaver-7", "both-lists"],
  },
  nordics: { rules: [[{ attribute: "country", operator: "in", values: ["DK", "SE", "NO", "FI", "IS"] }]] },
};

function segmentSet(negate = false): FlagSetInput {
  return {
    segments: SEGMENTS,
    flags: {
      f: booleanFlag({
        rules: [
          { clauses: [{ operator: "segmentMatch", values: ["staff", "nordics"], negate }], variant: "on" },
        ],
      }),
    },
  };
}

const on = (input: FlagSetInput, context: Record<string, unknown>) =>
  evaluate(compiled(input), "f", "production", context).value === true;

describe("segments", () => {
  it("a context is in a segment when any of its rule lists matches in full", () => {
    expect(on(segmentSet(), { email: "Jane@GANTRY.dev" })).toBe(true);
    expect(on(segmentSet(), { role: "contractor", country: "DK" })).toBe(true);
    expect(on(segmentSet(), { role: "contractor", country: "DE" })).toBe(false);
    expect(on(segmentSet(), { country: "SE" })).toBe(true);
    expect(on(segmentSet(), { country: "DE" })).toBe(false);
  });

  it("included targeting keys are in without matching a rule, excluded ones are out even if they match", () => {
    expect(on(segmentSet(), { targetingKey: "friend-1" })).toBe(true);
    expect(on(segmentSet(), { targetingKey: "leaver-7", email: "leaver@gantry.dev" })).toBe(false);
  });

  it("exclusion wins over inclusion", () => {
    expect(on(segmentSet(), { targetingKey: "both-lists" })).toBe(false);
  });

  it("an excluded key is out of that segment only, not of the others listed", () => {
    expect(on(segmentSet(), { targetingKey: "leaver-7", country: "NO" })).toBe(true);
  });

  it("a negated segmentMatch matches contexts in none of the segments", () => {
    expect(on(segmentSet(true), { country: "DE" })).toBe(true);
    expect(on(segmentSet(true), { country: "DK" })).toBe(false);
    expect(on(segmentSet(true), {})).toBe(true);
  });
});

function planSet(planAttribute?: string): FlagSetInput {
  return {
    ...(planAttribute ? { planAttribute } : {}),
    plans: { gold: { flags: { f: "on" } }, free: { flags: { f: "off" } } },
    flags: {
      f: booleanFlag({
        rules: [{ clauses: [{ attribute: "country", operator: "equals", values: ["DK"] }], variant: "on" }],
        fallthrough: {
          split: [
            { variant: "on", weight: 50 },
            { variant: "off", weight: 50 },
          ],
        },
      }),
      other: booleanFlag({ fallthrough: { variant: "on" } }),
    },
  };
}

describe("plans", () => {
  it("a context on a plan gets the plan's variant, as a targeting match", () => {
    const set = compiled(planSet());
    expect(evaluate(set, "f", "production", { plan: "gold" })).toEqual({
      value: true,
      variant: "on",
      reason: "TARGETING_MATCH",
    });
  });

  it("a plan comes before rules: a free-plan user in DK still gets the free plan's variant", () => {
    const set = compiled(planSet());
    expect(evaluate(set, "f", "production", { plan: "free", country: "DK" }).variant).toBe("off");
  });

  it("a plan comes before splits, so every gold user has the feature whatever their bucket", () => {
    const set = compiled(planSet());
    for (let i = 0; i < 200; i++) {
      expect(evaluate(set, "f", "production", { plan: "gold", targetingKey: `u${i}` }).variant).toBe("on");
    }
  });

  it("an unknown plan, or a plan that does not mention the flag, falls through to rules", () => {
    const set = compiled(planSet());
    expect(evaluate(set, "f", "production", { plan: "platinum", country: "DK" }).reason).toBe(
      "TARGETING_MATCH",
    );
    expect(evaluate(set, "f", "production", { plan: "platinum", targetingKey: "u1" }).reason).toBe("SPLIT");
    expect(evaluate(set, "other", "production", { plan: "gold" }).reason).toBe("STATIC");
  });

  it("reads the plan from the configured attribute", () => {
    const set = compiled(planSet("tier"));
    expect(evaluate(set, "f", "production", { tier: "free", country: "DK" }).variant).toBe("off");
    expect(evaluate(set, "f", "production", { plan: "free", country: "DK" }).variant).toBe("on");
  });

  it("a disabled flag serves its off variant even to a plan that grants it", () => {
    const input = planSet();
    input.flags["f"]!.environments["production"]!.enabled = false;
    expect(evaluate(compiled(input), "f", "production", { plan: "gold" })).toMatchObject({
      variant: "off",
      reason: "DISABLED",
    });
  });
});
