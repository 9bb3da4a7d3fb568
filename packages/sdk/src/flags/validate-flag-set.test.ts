import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileFlagSet } from "./compile-flag-set.ts";
import { evaluate } from "./evaluate.ts";
import { checkoutSet, setAt } from "./fixtures.ts";
import { validateFlagSet } from "./validate-flag-set.ts";

const P = "flags.checkout.environments.production";
const R = `${P}.rules`;

/** [what, field to change, new value (undefined deletes), path of the error, words of its reason] */
type Breakage = [string, string, unknown, string, string];

const BREAKAGES: Breakage[] = [
  [
    "a variant value of the wrong type",
    "flags.checkout.variants.on",
    "yes",
    "flags.checkout.variants.on",
    "not a boolean",
  ],
  ["a non-finite number variant", "flags.cart.type", "number", "flags.cart.variants.on", "not a number"],
  ["no variants", "flags.cart.variants", {}, "flags.cart.variants", "at least one variant"],
  [
    "an unknown default variant",
    "flags.checkout.defaultVariant",
    "maybe",
    "flags.checkout.defaultVariant",
    'unknown variant "maybe"',
  ],
  ["an unknown off variant", `${P}.offVariant`, "nope", `${P}.offVariant`, 'unknown variant "nope"'],
  [
    "an unknown rule variant",
    `${R}[0].variant`,
    "onn",
    `${R}[0].variant`,
    "the flag's variants are: on, off",
  ],
  [
    "an unknown split variant",
    `${R}[1].split[1].variant`,
    "of",
    `${R}[1].split[1].variant`,
    'unknown variant "of"',
  ],
  [
    "an unknown fallthrough variant",
    `${P}.fallthrough.variant`,
    "x",
    `${P}.fallthrough.variant`,
    'unknown variant "x"',
  ],
  ["weights not adding up to 100", `${R}[1].split[1].weight`, 40, `${R}[1].split`, "add up to 90"],
  [
    "a weight finer than 0.001",
    `${R}[1].split[0].weight`,
    50.0005,
    `${R}[1].split[0].weight`,
    "three decimals",
  ],
  ["a negative weight", `${R}[1].split[0].weight`, -5, `${R}[1].split[0].weight`, ">=0"],
  [
    "a variant twice in a split",
    `${R}[1].split[1].variant`,
    "on",
    `${R}[1].split[1].variant`,
    "appears twice",
  ],
  ["both variant and split", `${R}[1].variant`, "on", `${R}[1]`, "not both"],
  ["neither variant nor split", `${R}[0].variant`, undefined, `${R}[0]`, "serve a variant"],
  ["bucketBy without a split", `${R}[0].bucketBy`, "orgId", `${R}[0].bucketBy`, "only to a split"],
  ["salt without a split", `${P}.fallthrough.salt`, "s", `${P}.fallthrough.salt`, "only to a split"],
  ["a rule without clauses", `${R}[0].clauses`, [], `${R}[0].clauses`, "at least one clause"],
  [
    "an unknown prerequisite flag",
    `${P}.prerequisites[0].flagKey`,
    "kart",
    `${P}.prerequisites[0].flagKey`,
    'unknown flag "kart"',
  ],
  [
    "an unknown prerequisite variant",
    `${P}.prerequisites[0].variant`,
    "yes",
    `${P}.prerequisites[0].variant`,
    'unknown variant "yes"',
  ],
  [
    "a prerequisite missing from the environment",
    "flags.cart.environments",
    { staging: { enabled: true } },
    `${P}.prerequisites[0].flagKey`,
    'no "production" environment',
  ],
  [
    "a prerequisite cycle",
    "flags.cart.environments.production.prerequisites",
    [{ flagKey: "checkout", variant: "on" }],
    `${P}.prerequisites[0].flagKey`,
    "cart → checkout → cart",
  ],
  [
    "a plan naming an unknown flag",
    "plans.gold.flags.chekout",
    "on",
    "plans.gold.flags.chekout",
    'unknown flag "chekout"',
  ],
  [
    "a plan naming an unknown variant",
    "plans.gold.flags.checkout",
    "gold",
    "plans.gold.flags.checkout",
    'unknown variant "gold"',
  ],
  ["an unknown field", `${P}.enabeld`, true, P, 'Unrecognized key: "enabeld"'],
  ["a missing field", "flags.checkout.type", undefined, "flags.checkout.type", "type must be one of"],
  ["a bad flag key", "flags.bad key!", { type: "boolean" }, "flags.bad key!", "a flag key must be"],
  [
    "a bad environment name",
    "flags.cart.environments.-prod",
    { enabled: true },
    "flags.cart.environments.-prod",
    "an environment name must be",
  ],
  ["an empty plan attribute", "planAttribute", "", "planAttribute", ">=1"],
];

describe("validating a flag set", () => {
  it("accepts a valid set and fills in defaults", () => {
    const result = validateFlagSet(checkoutSet());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.flagSet.planAttribute).toBe("plan");
    expect(result.flagSet.flags["cart"]!.environments["production"]!.rules).toEqual([]);
    expect(result.flagSet.segments["beta"]!.included).toEqual([]);
  });

  it.each(BREAKAGES)("refuses %s, naming the field", (_, field, value, path, reason) => {
    const input = checkoutSet();
    setAt(input, field, value);
    const result = validateFlagSet(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContainEqual({ path, message: expect.stringContaining(reason) });
  });

  it("reports every problem at once, not just the first", () => {
    const input = checkoutSet();
    setAt(input, "flags.checkout.defaultVariant", "maybe");
    setAt(input, `${R}[0].variant`, "onn");
    setAt(input, "plans.gold.flags.checkout", "gold");
    const result = validateFlagSet(input);
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual([
      "flags.checkout.defaultVariant",
      `${R}[0].variant`,
      "plans.gold.flags.checkout",
    ]);
  });

  it.each([null, 42, "flags", [], {}])("refuses %j as a flag set", (input) => {
    const result = validateFlagSet(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]!.path).toMatch(/^(\(root\)|flags)$/);
  });

  it("a set that fails validation does not compile, and says why", () => {
    const input = checkoutSet();
    setAt(input, "flags.checkout.variants.on", "yes");
    const compilation = compileFlagSet(input);
    expect(compilation.ok).toBe(false);
    expect(compilation).toEqual(validateFlagSet(input));
  });
});

describe("keys that name Object.prototype members", () => {
  it("are ordinary keys: unknown unless defined, usable when defined", () => {
    const input = checkoutSet();
    setAt(input, "flags.checkout.environments.production.prerequisites[0].flagKey", "constructor");
    setAt(input, "plans.gold.flags.toString", "on");
    const result = validateFlagSet(input);
    expect(result.ok ? [] : result.errors.map((e) => e.message)).toEqual([
      'unknown flag "constructor"',
      'unknown flag "toString"',
    ]);
    const defined = checkoutSet();
    setAt(defined, "flags.constructor", defined.flags["cart"]);
    setAt(defined, "flags.checkout.environments.production.prerequisites[0].flagKey", "constructor");
    expect(validateFlagSet(defined).ok).toBe(true);
  });
});

describe("input no JSON document can be", () => {
  it("is refused without throwing, even an object that contains itself", () => {
    const loop: Record<string, unknown> = {};
    loop["self"] = loop;
    const input = {
      flags: { f: { type: "object", variants: { on: loop }, defaultVariant: "on", environments: {} } },
    };
    expect(validateFlagSet(input)).toEqual({
      ok: false,
      errors: [{ path: "flags.f.variants.on", message: "is not JSON: it contains itself" }],
    });
    expect(compileFlagSet(input).ok).toBe(false);
  });
});

describe("the README's example flag set", () => {
  it("is valid and evaluates as the README says", () => {
    const readme = readFileSync(new URL("./README.md", import.meta.url), "utf8");
    const jsonc = readme.slice(
      readme.indexOf("```jsonc") + 8,
      readme.indexOf("```", readme.indexOf("```jsonc") + 8),
    );
    const example: unknown = JSON.parse(jsonc.replace(/\/\/.*$/gm, ""));
    const result = validateFlagSet(example);
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(
      evaluate(compileFlagSet(example), "checkout", "production", { targetingKey: "user-42", country: "DK" }),
    ).toEqual({
      value: true,
      variant: "on",
      reason: "TARGETING_MATCH",
    });
  });
});
