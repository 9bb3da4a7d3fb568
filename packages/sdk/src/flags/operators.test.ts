import { describe, expect, it } from "vitest";
import { evaluate } from "./evaluate.ts";
import { compiled, oneClause } from "./fixtures.ts";
import type { Clause } from "./model.ts";
import type { EvaluationContext } from "./types.ts";

/** Whether the clause matches the context (its rule serves `on`; otherwise the fallthrough `off`). */
function matches(clause: Clause, context: EvaluationContext, now?: Date): boolean {
  const result = evaluate(compiled(oneClause(clause)), "f", "production", context, now ? { now } : undefined);
  expect(result.reason).not.toBe("ERROR");
  return result.value === true;
}

type Case = [operator: Clause["operator"], values: Clause["values"], attribute: unknown, expected: boolean];

const CASES: Case[] = [
  ["equals", ["DK"], "DK", true],
  ["equals", ["DK"], "dk", false],
  ["equals", [42], 42, true],
  ["equals", [42], "42", false],
  ["equals", [true], true, true],
  ["in", ["DK", "SE"], "SE", true],
  ["in", ["DK", "SE"], "NO", false],
  ["notIn", ["DK", "SE"], "NO", true],
  ["notIn", ["DK", "SE"], "DK", false],
  ["startsWith", ["admin-", "ops-"], "ops-jane", true],
  ["startsWith", ["admin-"], "jane-admin-", false],
  ["endsWith", ["@acme.com"], "jane@acme.com", true],
  ["endsWith", ["@acme.com"], "jane@acme.co", false],
  ["contains", ["beta"], "app-beta-7", true],
  ["contains", ["beta"], "app-stable", false],
  ["matches", ["^user-\\d+$"], "user-42", true],
  ["matches", ["^user-\\d+$"], "user-x", false],
  ["matches", ["^\\p{Lu}"], "Ærøskøbing", true],
  ["lt", [10], 9.5, true],
  ["lt", [10], 10, false],
  ["lte", [10], 10, true],
  ["gt", [10], 10, false],
  ["gt", [10], 11, true],
  ["gte", [10], 10, true],
  ["before", ["2025-03-01"], "2025-02-28T23:59:59Z", true],
  ["before", ["2025-03-01"], "2025-03-01T00:00:00Z", false],
  ["before", ["2025-03-01T00:00:00+01:00"], "2025-02-28T23:30:00Z", false],
  ["after", ["2025-03-01"], "2025-03-01T00:00:00.001Z", true],
  ["after", ["2025-03-01"], Date.UTC(2025, 1, 1), false],
  ["after", ["2025-03-01"], new Date(Date.UTC(2025, 5, 1)), true],
  ["semverEq", ["2.3.0", "2.4.0"], "2.4.0", true],
  ["semverEq", ["2.3.0"], "2.3.0+build.9", true],
  ["semverEq", ["2.3.0"], "2.3.0-rc.1", false],
  ["semverLt", ["2.10.0"], "2.9.9", true],
  ["semverLt", ["2.0.0"], "2.0.0-rc.1", true],
  ["semverGt", ["2.10.0"], "2.9.9", false],
  ["semverGt", ["1.0.0-alpha"], "1.0.0-alpha.1", true],
  ["semverRange", [">=2.3.0 <3"], "2.9.1", true],
  ["semverRange", [">=2.3.0 <3"], "3.0.0-beta", false],
  ["semverRange", [">=2.3.0 <3"], "2.2.9", false],
  ["semverRange", ["^1.2 || ~4.1.0"], "4.1.7", true],
  ["cidr", ["10.0.0.0/8"], "10.200.3.4", true],
  ["cidr", ["10.0.0.0/8"], "11.0.0.1", false],
  ["cidr", ["192.168.1.128/25"], "192.168.1.200", true],
  ["cidr", ["192.168.1.128/25"], "192.168.1.100", false],
  ["cidr", ["2001:db8::/32"], "2001:db8:ffff::1", true],
  ["cidr", ["2001:db8::/32"], "2001:db9::1", false],
  ["cidr", ["10.0.0.0/8"], "::ffff:10.1.2.3", true],
  ["cidr", ["::ffff:10.0.0.0/104"], "10.9.9.9", true],
  ["cidr", ["0.0.0.0/0"], "2001:db8::1", false],
];

describe("clause operators", () => {
  it.each(CASES)("%s %j against %j matches: %s", (operator, values, attribute, expected) => {
    expect(matches({ attribute: "a", operator, values }, { a: attribute })).toBe(expected);
  });

  it.each(CASES)(
    "%s %j against %j negated matches the opposite of %s",
    (operator, values, attribute, expected) => {
      expect(matches({ attribute: "a", operator, values, negate: true }, { a: attribute })).toBe(!expected);
    },
  );

  it.each([
    ["equals", ["dk"], "DK"],
    ["in", ["dk", "se"], "Se"],
    ["startsWith", ["ADMIN-"], "admin-jane"],
    ["endsWith", ["@ACME.com"], "jane@acme.COM"],
    ["contains", ["BeTa"], "app-BETA-7"],
    ["matches", ["^ærø"], "ÆRØSKØBING"],
  ] as const)("%s %j matches %j only when case-insensitive", (operator, values, attribute) => {
    const clause = { attribute: "a", operator, values: [...values] };
    expect(matches(clause, { a: attribute })).toBe(false);
    expect(matches({ ...clause, caseInsensitive: true }, { a: attribute })).toBe(true);
  });

  it("notIn case-insensitive refuses any casing of a listed value", () => {
    const clause: Clause = { attribute: "a", operator: "notIn", values: ["dk"], caseInsensitive: true };
    expect(matches(clause, { a: "DK" })).toBe(false);
    expect(matches(clause, { a: "SE" })).toBe(true);
  });

  it("a missing attribute never matches, whether negated or notIn", () => {
    for (const operator of ["equals", "notIn", "startsWith", "lt", "before", "semverLt", "cidr"] as const) {
      const values = { lt: [1], before: ["2025-01-01"], semverLt: ["1.0.0"], cidr: ["10.0.0.0/8"] }[
        operator as string
      ] ?? ["x"];
      for (const negate of [false, true]) {
        expect(matches({ attribute: "a", operator, values, negate }, {})).toBe(false);
        expect(matches({ attribute: "a", operator, values, negate }, { a: null })).toBe(false);
      }
    }
  });

  it("an attribute of the wrong kind never matches, even negated", () => {
    const wrong: [Clause, unknown][] = [
      [{ attribute: "a", operator: "startsWith", values: ["1"] }, 12],
      [{ attribute: "a", operator: "lt", values: [10] }, "5"],
      [{ attribute: "a", operator: "before", values: ["2025-01-01"] }, "yesterday"],
      [{ attribute: "a", operator: "semverLt", values: ["2.0.0"] }, "v1"],
      [{ attribute: "a", operator: "cidr", values: ["10.0.0.0/8"] }, "10.0.0"],
      [{ attribute: "a", operator: "in", values: ["x"] }, { x: 1 }],
    ];
    for (const [clause, value] of wrong) {
      expect(matches(clause, { a: value })).toBe(false);
      expect(matches({ ...clause, negate: true }, { a: value })).toBe(false);
    }
  });

  it("an array attribute matches when any element does, and notIn when none does", () => {
    expect(
      matches({ attribute: "groups", operator: "in", values: ["beta"] }, { groups: ["staff", "beta"] }),
    ).toBe(true);
    expect(matches({ attribute: "groups", operator: "in", values: ["beta"] }, { groups: ["staff"] })).toBe(
      false,
    );
    expect(
      matches({ attribute: "groups", operator: "notIn", values: ["beta"] }, { groups: ["staff", "beta"] }),
    ).toBe(false);
    expect(matches({ attribute: "groups", operator: "notIn", values: ["beta"] }, { groups: ["staff"] })).toBe(
      true,
    );
    expect(matches({ attribute: "groups", operator: "in", values: ["beta"] }, { groups: [] })).toBe(false);
  });

  it("targetingKey is an attribute like any other", () => {
    expect(
      matches({ attribute: "targetingKey", operator: "in", values: ["u-1"] }, { targetingKey: "u-1" }),
    ).toBe(true);
  });

  it("$now reads the injected clock, and without one never matches", () => {
    const launch: Clause = { attribute: "$now", operator: "after", values: ["2025-06-01T09:00:00Z"] };
    expect(matches(launch, {}, new Date("2025-06-01T09:00:01Z"))).toBe(true);
    expect(matches(launch, {}, new Date("2025-06-01T08:59:59Z"))).toBe(false);
    expect(matches(launch, {})).toBe(false);
    expect(matches(launch, { $now: "2030-01-01" })).toBe(false);
  });

  it("all clauses of a rule must match", () => {
    const set = compiled({
      flags: {
        f: {
          type: "boolean",
          variants: { on: true, off: false },
          defaultVariant: "off",
          environments: {
            production: {
              enabled: true,
              rules: [
                {
                  clauses: [
                    { attribute: "country", operator: "equals", values: ["DK"] },
                    { attribute: "age", operator: "gte", values: [18] },
                  ],
                  variant: "on",
                },
              ],
            },
          },
        },
      },
    });
    expect(evaluate(set, "f", "production", { country: "DK", age: 30 }).value).toBe(true);
    expect(evaluate(set, "f", "production", { country: "DK", age: 17 }).value).toBe(false);
    expect(evaluate(set, "f", "production", { country: "SE", age: 30 }).value).toBe(false);
  });
});
