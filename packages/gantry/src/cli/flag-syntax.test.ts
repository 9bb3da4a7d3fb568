import { describe, expect, it } from "vitest";
import { GantryError } from "../errors/index.ts";
import { formatClause, parseClause, parseSplit, parseVariant } from "./flag-syntax.ts";

function refused(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof GantryError) return error.message;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("the flags CLI's clause syntax", () => {
  it("reads attribute, operator and comma-separated values", () => {
    expect(parseClause("country in DK,SE")).toEqual({
      attribute: "country",
      operator: "in",
      values: ["DK", "SE"],
    });
    expect(parseClause("version semverRange >=2.1.0 <3")).toEqual({
      attribute: "version",
      operator: "semverRange",
      values: [">=2.1.0 <3"],
    });
  });

  it("reads negation, case-insensitivity, segments, numbers and JSON values", () => {
    expect(parseClause("not email endsWith/i @acme.com")).toEqual({
      attribute: "email",
      operator: "endsWith",
      values: ["@acme.com"],
      negate: true,
      caseInsensitive: true,
    });
    expect(parseClause("segment beta,staff")).toEqual({
      operator: "segmentMatch",
      values: ["beta", "staff"],
    });
    expect(parseClause("age >= 18")).toEqual({ attribute: "age", operator: "gte", values: [18] });
    expect(parseClause('tier in [1, true, "a,b"]').values).toEqual([1, true, "a,b"]);
    expect(parseClause("Country STARTSWITH D").operator).toBe("startsWith");
  });

  it("refuses what it cannot read, saying how to write it", () => {
    expect(refused(() => parseClause("country"))).toContain('e.g. "country in DK,SE"');
    expect(refused(() => parseClause("country like DK"))).toContain('unknown operator "like"');
    expect(refused(() => parseClause("age gt old"))).toContain('"old" is not one');
    expect(refused(() => parseClause("tier in [1,"))).toContain("is not a JSON array");
  });

  it("writes a clause back the way it reads it", () => {
    for (const text of [
      "country in DK,SE",
      "not email endsWith/i @acme.com",
      "segment beta",
      "age gte 18",
      'tier in [1,"a,b"]',
    ])
      expect(formatClause(parseClause(text))).toBe(text);
  });

  it("reads splits and variants", () => {
    expect(parseSplit("on=25,off=75")).toEqual([
      { variant: "on", weight: 25 },
      { variant: "off", weight: 75 },
    ]);
    expect(refused(() => parseSplit("on=25,off"))).toContain("is not VARIANT=PERCENT");
    expect(parseVariant("blue=#00f", "string")).toEqual(["blue", "#00f"]);
    expect(parseVariant("limit=10", "number")).toEqual(["limit", 10]);
    expect(parseVariant('cfg={"a":1}', "object")).toEqual(["cfg", { a: 1 }]);
    expect(refused(() => parseVariant("cfg={a", "object"))).toContain("is not JSON");
  });
});
