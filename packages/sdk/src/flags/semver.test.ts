import npmSemver from "semver";
import { describe, expect, it } from "vitest";
import { compareSemVer, parseSemVer, parseSemVerRange } from "./semver.ts";

const version = (text: string) => {
  const parsed = parseSemVer(text);
  if (!parsed) throw new Error(`not a version: ${text}`);
  return parsed;
};
const satisfies = (text: string, range: string) => parseSemVerRange(range)!(version(text));

describe("semantic versions", () => {
  it("orders versions by SemVer 2.0.0 precedence, as the specification's example list", () => {
    const ordered = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.0.1",
      "1.2.0",
      "1.10.0",
      "2.0.0",
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareSemVer(version(ordered[i]!), version(ordered[i + 1]!))).toBeLessThan(0);
      expect(compareSemVer(version(ordered[i + 1]!), version(ordered[i]!))).toBeGreaterThan(0);
    }
    expect(compareSemVer(version("1.0.0+a"), version("1.0.0+b"))).toBe(0);
  });

  it.each(["v1.2.3", "1.2", "01.2.3", "1.2.3-01", "1.2.3-", "1.2.3+", " 1.2.3", "1.2.3.4", ""])(
    "refuses %j as a version",
    (text) => expect(parseSemVer(text)).toBeNull(),
  );

  it.each([
    "",
    "||",
    ">=1.2.3 ||",
    "=>1.2.3",
    ">= 1.2.3",
    "1.2.x",
    "v1",
    "1.2.3 - 2.0.0",
    "^1.2.3.4",
    "<1.2.3-01",
  ])("refuses %j as a range", (text) => expect(parseSemVerRange(text)).toBeNull());

  it("reads ranges with npm's meaning for release versions", () => {
    const ranges = [
      ">=2.3.0 <3",
      ">=2.3 <3.1",
      ">2.3",
      ">2",
      "<=2.3",
      "<=2",
      "<2.3",
      "2.3",
      "2",
      "=2.3.4",
      "^1.2.3",
      "^0.2.3",
      "^0.0.3",
      "^1.2",
      "^0.2",
      "^0",
      "~1.2.3",
      "~1.2",
      "~1",
      "*",
      "<1.0.0 || >=2.1.0 <2.2",
    ];
    const versions: string[] = [];
    for (const major of [0, 1, 2, 3]) {
      for (const minor of [0, 1, 2, 3, 4])
        for (const patch of [0, 2, 3, 4, 9]) versions.push(`${major}.${minor}.${patch}`);
    }
    for (const range of ranges) {
      for (const v of versions)
        expect([range, v, satisfies(v, range)]).toEqual([range, v, npmSemver.satisfies(v, range)]);
    }
  });

  it("a partial bound covers the prereleases of what it names", () => {
    expect(satisfies("3.0.0-beta", "<3")).toBe(false);
    expect(satisfies("3.0.0-beta", "<3.0.0")).toBe(true);
    expect(satisfies("3.0.0-beta", ">=3")).toBe(true);
    expect(satisfies("2.9.9-rc.1", ">=2.3.0 <3")).toBe(true);
    expect(satisfies("3.1.0-rc.1", "3.1")).toBe(true);
    expect(satisfies("3.2.0-rc.1", "<=3.1")).toBe(false);
    expect(satisfies("1.2.3-rc.1", "^1.2.3")).toBe(false);
  });
});
