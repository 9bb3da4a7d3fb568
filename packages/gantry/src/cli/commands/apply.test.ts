import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readFlagDocument } from "./apply.ts";

const dir = mkdtempSync(join(tmpdir(), "apply-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const flag = "{ type: boolean, variants: { on: true }, defaultVariant: on }";

describe("the file gantry apply reads", () => {
  it("is a flags file as a whole", () => {
    expect(
      readFlagDocument(file("flags.yaml", `flags:\n  a: ${flag}\nsegments:\n  s: { included: [u] }\n`)),
    ).toEqual({
      flags: { a: { type: "boolean", variants: { on: true }, defaultVariant: "on" } },
      segments: { s: { included: ["u"] } },
    });
  });

  it("is gantry.yaml's flags: section, with or without environments", () => {
    const withEnvs = file(
      "g1.yaml",
      `services: {}\nflags:\n  environments: [staging]\n  flags:\n    a: ${flag}\n`,
    );
    expect(readFlagDocument(withEnvs)).toEqual({
      flags: { a: { type: "boolean", variants: { on: true }, defaultVariant: "on" } },
    });
    const plain = file("gantry.yaml", `flags:\n  flags:\n    a: ${flag}\n`);
    expect(Object.keys(readFlagDocument(plain).flags as object)).toEqual(["a"]);
  });

  it("refuses unknown top-level keys and a gantry.yaml without flags, naming them", () => {
    expect(() => readFlagDocument(file("f2.yaml", "flag:\n  a: {}\n"))).toThrow(/unknown top-level key flag/);
    expect(() => readFlagDocument(file("g2.yaml", "services: {}\n"))).toThrow(/has no flags to apply/);
    expect(() => readFlagDocument(join(dir, "missing.yaml"))).toThrow(/no file/);
  });
});
