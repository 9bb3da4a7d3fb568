import { describe, expect, it } from "vitest";
import { compileFlagSet } from "./compile-flag-set.ts";
import { evaluate, evaluateAll } from "./evaluate.ts";
import { booleanFlag, checkoutSet, compiled, setAt } from "./fixtures.ts";
import type { FlagSetInput } from "./model.ts";
import type { EvaluationContext } from "./types.ts";

const HALF = [
  { variant: "on", weight: 50 },
  { variant: "off", weight: 50 },
];

function reasonsSet(): FlagSetInput {
  return {
    flags: {
      static: booleanFlag({ fallthrough: { variant: "on" } }),
      targeted: booleanFlag({
        rules: [{ clauses: [{ attribute: "country", operator: "equals", values: ["DK"] }], variant: "on" }],
      }),
      split: booleanFlag({ fallthrough: { split: HALF } }),
      ruleSplit: booleanFlag({
        rules: [{ clauses: [{ attribute: "country", operator: "equals", values: ["DK"] }], split: HALF }],
      }),
      byOrg: booleanFlag({ fallthrough: { split: HALF, bucketBy: "orgId" } }),
      off: booleanFlag({ enabled: false, offVariant: "on", fallthrough: { variant: "off" } }),
      settings: {
        type: "object",
        variants: {
          compact: { density: "compact", columns: [1, 2] },
          roomy: { density: "roomy", columns: [] },
        },
        defaultVariant: "roomy",
        environments: { production: { enabled: true, fallthrough: { variant: "compact" } } },
      },
    },
  };
}

const run = (flagKey: string, context: EvaluationContext = {}) =>
  evaluate(compiled(reasonsSet()), flagKey, "production", context);

describe("evaluation reasons", () => {
  it("STATIC when the answer cannot depend on the context", () => {
    expect(run("static")).toEqual({ value: true, variant: "on", reason: "STATIC" });
  });

  it("TARGETING_MATCH when a rule serves a variant, DEFAULT when none matched", () => {
    expect(run("targeted", { country: "DK" })).toEqual({
      value: true,
      variant: "on",
      reason: "TARGETING_MATCH",
    });
    expect(run("targeted", { country: "SE" })).toEqual({ value: false, variant: "off", reason: "DEFAULT" });
  });

  it("SPLIT when a percentage split chose, from a rule or the fallthrough", () => {
    expect(run("split", { targetingKey: "u-1" }).reason).toBe("SPLIT");
    expect(run("ruleSplit", { targetingKey: "u-1", country: "DK" }).reason).toBe("SPLIT");
    expect(run("ruleSplit", { targetingKey: "u-1", country: "SE" }).reason).toBe("DEFAULT");
  });

  it("DISABLED with the off variant when the flag is off, whatever the context", () => {
    expect(run("off", { targetingKey: "u-1", country: "DK" })).toEqual({
      value: true,
      variant: "on",
      reason: "DISABLED",
    });
  });

  it("a disabled flag without an off variant serves its default variant", () => {
    const set = compiled({ flags: { f: booleanFlag({ enabled: false, fallthrough: { variant: "on" } }) } });
    expect(evaluate(set, "f", "production")).toEqual({ value: false, variant: "off", reason: "DISABLED" });
  });

  it("object flags serve their JSON value", () => {
    expect(run("settings").value).toEqual({ density: "compact", columns: [1, 2] });
  });
});

describe("evaluation errors", () => {
  const set = compiled(reasonsSet());

  it("FLAG_NOT_FOUND for an unknown flag or an environment the flag is not defined in", () => {
    expect(evaluate(set, "nope", "production")).toMatchObject({
      reason: "ERROR",
      errorCode: "FLAG_NOT_FOUND",
      value: null,
    });
    expect(evaluate(set, "static", "staging")).toMatchObject({
      errorCode: "FLAG_NOT_FOUND",
      errorMessage: 'flag "static" is not defined in staging',
    });
  });

  it("TYPE_MISMATCH when the caller expects another type", () => {
    expect(evaluate(set, "static", "production", {}, { type: "string" })).toMatchObject({
      reason: "ERROR",
      errorCode: "TYPE_MISMATCH",
      errorMessage: 'flag "static" is a boolean, not a string',
    });
    expect(evaluate(set, "static", "production", {}, { type: "boolean" }).reason).toBe("STATIC");
  });

  it("TARGETING_KEY_MISSING when a split buckets by a targeting key the context lacks", () => {
    for (const context of [{}, { targetingKey: "" }, { targetingKey: 1.5 }] as EvaluationContext[]) {
      expect(evaluate(set, "split", "production", context)).toMatchObject({
        reason: "ERROR",
        errorCode: "TARGETING_KEY_MISSING",
        variant: null,
        value: null,
      });
    }
    expect(
      evaluate(set, "split", "production", { targetingKey: 42 } as unknown as EvaluationContext).reason,
    ).toBe("SPLIT");
  });

  it("GENERAL when a split buckets by another attribute the context lacks", () => {
    expect(evaluate(set, "byOrg", "production", { targetingKey: "u-1" })).toMatchObject({
      errorCode: "GENERAL",
      errorMessage: expect.stringContaining('"orgId"'),
    });
    expect(evaluate(set, "byOrg", "production", { orgId: "acme" }).reason).toBe("SPLIT");
  });

  it("PARSE_ERROR for every flag of a set that failed validation, naming the first problem", () => {
    const input = checkoutSet();
    setAt(input, "flags.checkout.defaultVariant", "maybe");
    const failed = compileFlagSet(input);
    expect(evaluate(failed, "checkout", "production")).toMatchObject({
      reason: "ERROR",
      errorCode: "PARSE_ERROR",
      errorMessage: expect.stringContaining("flags.checkout.defaultVariant"),
    });
    expect(evaluate(failed, "cart", "production").errorCode).toBe("PARSE_ERROR");
  });

  it("never throws: a context whose attributes throw is a GENERAL error", () => {
    const hostile = {
      get country(): string {
        throw new Error("boom");
      },
    };
    expect(evaluate(set, "targeted", "production", hostile)).toMatchObject({
      errorCode: "GENERAL",
      errorMessage: expect.stringContaining("boom"),
    });
    for (const context of [null, undefined, 7, "ctx"]) {
      expect(evaluate(set, "targeted", "production", context as unknown as EvaluationContext).reason).toBe(
        "DEFAULT",
      );
    }
  });
});

describe("evaluated results", () => {
  it("accepts a successful compilation as well as the compiled set", () => {
    const compilation = compileFlagSet(reasonsSet());
    expect(evaluate(compilation, "static", "production")).toEqual(run("static"));
  });

  it("are frozen, so a caller cannot change what the next caller gets, and the input is left alone", () => {
    const input = reasonsSet();
    const result = evaluate(compiled(input), "settings", "production");
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.value)).toBe(true);
    expect(Object.isFrozen((result.value as { columns: number[] }).columns)).toBe(true);
    expect(Object.isFrozen(input.flags["settings"]!.variants["compact"])).toBe(false);
  });

  it("evaluateAll evaluates every flag defined in the environment", () => {
    const input = reasonsSet();
    input.flags["stagingOnly"] = { ...booleanFlag(), environments: { staging: { enabled: true } } };
    const all = evaluateAll(compiled(input), "production", {
      targetingKey: "u-1",
      country: "DK",
      orgId: "acme",
    });
    expect(Object.keys(all).sort()).toEqual([
      "byOrg",
      "off",
      "ruleSplit",
      "settings",
      "split",
      "static",
      "targeted",
    ]);
    expect(all["static"]).toEqual(run("static"));
    expect(all["targeted"]!.reason).toBe("TARGETING_MATCH");
    expect(evaluateAll(compiled(input), "staging")).toEqual({
      stagingOnly: { value: false, variant: "off", reason: "STATIC" },
    });
  });
});

describe("evaluation speed", () => {
  it("evaluates a flag with one clause and a 50% split well under a microsecond", () => {
    const set = compiled({
      flags: {
        f: booleanFlag({
          rules: [{ clauses: [{ attribute: "country", operator: "in", values: ["DK", "SE"] }], split: HALF }],
        }),
      },
    });
    const contexts = Array.from({ length: 1024 }, (_, i) => ({
      targetingKey: `user-${i * 7919}`,
      country: "DK",
    }));
    const timeOf = (n: number) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) evaluate(set, "f", "production", contexts[i & 1023]!);
      return Number(process.hrtime.bigint() - start) / n;
    };
    timeOf(200_000);
    const best = Math.min(...[1, 2, 3, 4, 5].map(() => timeOf(200_000)));
    expect(best).toBeLessThan(1000);
  });
});
