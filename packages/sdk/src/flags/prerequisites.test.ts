import { describe, expect, it } from "vitest";
import { evaluate } from "./evaluate.ts";
import { booleanFlag, compiled } from "./fixtures.ts";
import type { FlagSetInput } from "./model.ts";
import { validateFlagSet } from "./validate-flag-set.ts";

function chain(cartEnabled: boolean, extra: Partial<Parameters<typeof booleanFlag>[0]> = {}): FlagSetInput {
  return {
    plans: { gold: { flags: { checkout: "on" } } },
    flags: {
      cart: booleanFlag({ enabled: cartEnabled, fallthrough: { variant: "on" }, ...extra }),
      payments: booleanFlag({
        prerequisites: [{ flagKey: "cart", variant: "on" }],
        fallthrough: { variant: "on" },
      }),
      checkout: {
        ...booleanFlag({
          offVariant: "off",
          prerequisites: [{ flagKey: "payments", variant: "on" }],
          fallthrough: { variant: "on" },
        }),
      },
    },
  };
}

describe("prerequisites", () => {
  it("a flag is on only when each prerequisite serves the required variant, through a chain", () => {
    expect(evaluate(compiled(chain(true)), "checkout", "production", {})).toEqual({
      value: true,
      variant: "on",
      reason: "DEFAULT",
    });
    expect(evaluate(compiled(chain(false)), "checkout", "production", {})).toEqual({
      value: false,
      variant: "off",
      reason: "DISABLED",
    });
  });

  it("an unmet prerequisite beats a plan: gold users do not get a feature whose dependency is off", () => {
    expect(evaluate(compiled(chain(false)), "checkout", "production", { plan: "gold" }).variant).toBe("off");
    expect(evaluate(compiled(chain(true)), "checkout", "production", { plan: "gold" }).reason).toBe(
      "TARGETING_MATCH",
    );
  });

  it("prerequisites are evaluated with the same context, so targeting flows through", () => {
    const set = compiled(
      chain(true, {
        fallthrough: { variant: "off" },
        rules: [{ clauses: [{ attribute: "country", operator: "equals", values: ["DK"] }], variant: "on" }],
      }),
    );
    expect(evaluate(set, "checkout", "production", { country: "DK" }).variant).toBe("on");
    expect(evaluate(set, "checkout", "production", { country: "SE" }).variant).toBe("off");
  });

  it("an error in a prerequisite is an error of the flag, naming the prerequisite", () => {
    const set = compiled(chain(true, { fallthrough: { split: [{ variant: "on", weight: 100 }] } }));
    const result = evaluate(set, "checkout", "production", {});
    expect(result).toMatchObject({ reason: "ERROR", errorCode: "TARGETING_KEY_MISSING", value: null });
    expect(result.errorMessage).toContain('prerequisite "payments": prerequisite "cart"');
    expect(evaluate(set, "checkout", "production", { targetingKey: "u1" }).variant).toBe("on");
  });

  it("cycles are refused at validation and named in full", () => {
    const input = chain(true);
    input.flags["cart"]!.environments["production"]!.prerequisites = [{ flagKey: "checkout", variant: "on" }];
    const result = validateFlagSet(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      {
        path: "flags.payments.environments.production.prerequisites[0].flagKey",
        message: expect.stringContaining("cart → checkout → payments → cart"),
      },
    ]);
  });

  it("a flag requiring itself is a cycle of one", () => {
    const input: FlagSetInput = {
      flags: { a: booleanFlag({ prerequisites: [{ flagKey: "a", variant: "on" }] }) },
    };
    const result = validateFlagSet(input);
    expect(result.ok ? [] : result.errors.map((e) => e.message)).toEqual([
      expect.stringContaining("prerequisite cycle in production: a → a"),
    ]);
  });

  it("cycles are per environment: a → b in one and b → a in another is fine", () => {
    const both = (prerequisites: { staging?: string; production?: string }) => ({
      type: "boolean" as const,
      variants: { on: true, off: false },
      defaultVariant: "off",
      environments: {
        staging: {
          enabled: true,
          prerequisites: prerequisites.staging ? [{ flagKey: prerequisites.staging, variant: "on" }] : [],
        },
        production: {
          enabled: true,
          prerequisites: prerequisites.production
            ? [{ flagKey: prerequisites.production, variant: "on" }]
            : [],
        },
      },
    });
    expect(validateFlagSet({ flags: { a: both({ staging: "b" }), b: both({ production: "a" }) } }).ok).toBe(
      true,
    );
    const cyclic = validateFlagSet({ flags: { a: both({ staging: "b" }), b: both({ staging: "a" }) } });
    expect(cyclic.ok ? [] : cyclic.errors.map((e) => e.message)).toEqual([
      expect.stringContaining("prerequisite cycle in staging: a → b → a"),
    ]);
  });

  it("reports every distinct cycle once", () => {
    const flag = (requires: string[]) =>
      booleanFlag({ prerequisites: requires.map((flagKey) => ({ flagKey, variant: "on" })) });
    const result = validateFlagSet({
      flags: { a: flag(["b"]), b: flag(["a", "c"]), c: flag(["d"]), d: flag(["c"]) },
    });
    expect(result.ok ? [] : result.errors.map((e) => e.message.replace(/;.*/, ""))).toEqual([
      "prerequisite cycle in production: a → b → a",
      "prerequisite cycle in production: c → d → c",
    ]);
  });
});
