import { describe, expect, it } from "vitest";
import { checkoutSet, setAt } from "./fixtures.ts";
import type { Clause } from "./model.ts";
import { validateFlagSet } from "./validate-flag-set.ts";

const C = "flags.checkout.environments.production.rules[0].clauses[0]";

/** [what, the clause put in rules[0].clauses[0], the field of the error under it, words of its reason] */
type BadClause = [string, Record<string, unknown>, string, string];

const BAD_CLAUSES: BadClause[] = [
  [
    "an unknown operator",
    { attribute: "a", operator: "near", values: ["x"] },
    "operator",
    'unknown operator "near"',
  ],
  [
    "an invalid regex",
    { attribute: "a", operator: "matches", values: ["[a-"] },
    "values[0]",
    "not a valid regular expression",
  ],
  [
    "a regex that is not a string",
    { attribute: "a", operator: "matches", values: [1] },
    "values[0]",
    "regular expression",
  ],
  [
    "an invalid version",
    { attribute: "v", operator: "semverLt", values: ["2.3"] },
    "values[0]",
    "must be a version",
  ],
  [
    "an invalid range",
    { attribute: "v", operator: "semverRange", values: [">=2.3.0 <3", "~>2"] },
    "values[1]",
    "version range",
  ],
  [
    "an invalid CIDR block",
    { attribute: "ip", operator: "cidr", values: ["10.0.0.0/8", "10.1.0.0/8"] },
    "values[1]",
    "host bits",
  ],
  [
    "an impossible date",
    { attribute: "d", operator: "before", values: ["2025-02-30"] },
    "values[0]",
    "ISO 8601",
  ],
  [
    "a date-time without offset",
    { attribute: "d", operator: "after", values: ["2025-02-01T10:00"] },
    "values[0]",
    "ISO 8601",
  ],
  [
    "a string bound for a number operator",
    { attribute: "n", operator: "lt", values: ["10"] },
    "values[0]",
    "must be a number",
  ],
  [
    "a text operator on a number",
    { attribute: "n", operator: "startsWith", values: [10] },
    "values[0]",
    "must be a string",
  ],
  ["two bounds for lt", { attribute: "n", operator: "lt", values: [1, 2] }, "values", "exactly one value"],
  [
    "two values for equals",
    { attribute: "n", operator: "equals", values: [1, 2] },
    "values",
    "exactly one value",
  ],
  ["no values", { attribute: "n", operator: "in", values: [] }, "values", "at least one value"],
  ["an object value", { attribute: "n", operator: "in", values: [{}] }, "values[0]", "Invalid input"],
  ["a missing attribute", { operator: "in", values: ["x"] }, "attribute", "needs the context attribute"],
  [
    "caseInsensitive on a number operator",
    { attribute: "n", operator: "gt", values: [1], caseInsensitive: true },
    "caseInsensitive",
    "only to text operators",
  ],
  [
    "an unknown segment",
    { operator: "segmentMatch", values: ["beta", "gamma"] },
    "values[1]",
    'unknown segment "gamma"',
  ],
  [
    "an attribute on segmentMatch",
    { attribute: "a", operator: "segmentMatch", values: ["beta"] },
    "attribute",
    "takes no attribute",
  ],
  [
    "an unknown clause field",
    { attribute: "a", operator: "in", values: ["x"], not: true },
    "",
    'Unrecognized key: "not"',
  ],
];

describe("validating clauses", () => {
  it.each(BAD_CLAUSES)("refuses %s, naming the field", (_, clause, field, reason) => {
    const input = checkoutSet();
    setAt(input, C, clause);
    const result = validateFlagSet(input);
    expect(result.ok).toBe(false);
    const path = field === "" ? C : `${C}.${field}`;
    if (!result.ok) expect(result.errors).toContainEqual({ path, message: expect.stringContaining(reason) });
  });

  it("refuses a segment that refers to a segment", () => {
    const input = checkoutSet();
    setAt(input, "segments.beta.rules[0][0]", {
      operator: "segmentMatch",
      values: ["beta"],
    } satisfies Clause);
    const result = validateFlagSet(input);
    expect(result.ok ? [] : result.errors).toEqual([
      {
        path: "segments.beta.rules[0][0].operator",
        message: expect.stringContaining("cannot refer to other segments"),
      },
    ]);
  });

  it("checks clauses inside segments like those in rules", () => {
    const input = checkoutSet();
    setAt(input, "segments.beta.rules[0][0].operator", "matches");
    setAt(input, "segments.beta.rules[0][0].values", ["(unclosed"]);
    const result = validateFlagSet(input);
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual([
      "segments.beta.rules[0][0].values[0]",
    ]);
  });

  it("accepts every operator used well", () => {
    const good: Clause[] = [
      { attribute: "a", operator: "equals", values: ["x"], caseInsensitive: true },
      { attribute: "a", operator: "notIn", values: ["x", 1, true], negate: true },
      { attribute: "a", operator: "matches", values: ["^\\p{L}+$"] },
      { attribute: "$now", operator: "after", values: ["2025-06-01T09:00:00+02:00"] },
      { attribute: "v", operator: "semverEq", values: ["1.0.0", "2.0.0-rc.1+b7"] },
      { attribute: "v", operator: "semverRange", values: [">=2.3.0 <3 || ^4"] },
      { attribute: "ip", operator: "cidr", values: ["10.0.0.0/8", "2001:db8::/32"] },
      { operator: "segmentMatch", values: ["beta"], negate: true },
    ];
    const input = checkoutSet();
    setAt(input, "flags.checkout.environments.production.rules[0].clauses", good);
    expect(validateFlagSet(input)).toMatchObject({ ok: true });
  });
});
