import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { booleanFlag } from "../flags/fixtures.ts";
import { evaluate } from "../flags/index.ts";
import { parseRuleSet, type RuleSet } from "./rule-set.ts";
import { readSnapshot, SnapshotWriter } from "./snapshot-file.ts";

function ruleSet(revision: number, serve: "on" | "off"): RuleSet {
  const parsed = parseRuleSet({
    environment: "production",
    revision,
    flagSet: { flags: { f: booleanFlag({ fallthrough: { variant: serve } }) } },
  });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.ruleSet;
}

const dir = () => mkdtempSync(join(tmpdir(), "gantry-snapshot-"));

describe("snapshot file", () => {
  it("reads back what it wrote: the same revision, evaluating the same", async () => {
    const file = join(dir(), "nested", "flags.json");
    const errors: string[] = [];
    const writer = new SnapshotWriter(file, (m) => errors.push(m));
    writer.write(ruleSet(7, "on"));
    await writer.idle();
    const read = await readSnapshot(file);
    expect(errors).toEqual([]);
    expect(read.kind).toBe("ok");
    if (read.kind !== "ok") return;
    expect(read.ruleSet).toMatchObject({ environment: "production", revision: 7 });
    expect(evaluate(read.ruleSet.compiled, "f", "production", {}).value).toBe(true);
  });

  it("writes only the newest of a burst, and leaves no temporary file", async () => {
    const folder = dir();
    const file = join(folder, "flags.json");
    const writer = new SnapshotWriter(file, () => {});
    for (let revision = 1; revision <= 20; revision++) writer.write(ruleSet(revision, "on"));
    await writer.idle();
    expect(JSON.parse(readFileSync(file, "utf8")).revision).toBe(20);
    expect(readdirSync(folder)).toEqual(["flags.json"]);
  });

  it("says a missing file is missing, and why any other unusable file is unusable", async () => {
    const folder = dir();
    expect(await readSnapshot(join(folder, "none.json"))).toEqual({ kind: "missing" });
    const cases: [string, string, RegExp][] = [
      ["truncated.json", '{"gantrySnapshot":1,"revis', /is not valid JSON/],
      [
        "other.json",
        '{"flags":{}}',
        /gantrySnapshot is undefined, expected 1; it is not a snapshot this SDK wrote/,
      ],
      [
        "edited.json",
        JSON.stringify({
          gantrySnapshot: 1,
          environment: "production",
          revision: 3,
          flagSet: { flags: { f: { ...booleanFlag(), defaultVariant: "maybe" } } },
        }),
        /the flag set of revision 3 is invalid: flagSet\.flags\.f\.defaultVariant/,
      ],
      [
        "revision.json",
        JSON.stringify({ gantrySnapshot: 1, environment: "production", flagSet: {} }),
        /revision:/,
      ],
    ];
    for (const [name, text, reason] of cases) {
      writeFileSync(join(folder, name), text);
      const read = await readSnapshot(join(folder, name));
      expect(read.kind, name).toBe("unusable");
      if (read.kind === "unusable") expect(read.message, name).toMatch(reason);
    }
    mkdirSync(join(folder, "a-directory"));
    const unreadable = await readSnapshot(join(folder, "a-directory"));
    expect(unreadable).toMatchObject({ kind: "unusable" });
  });

  it("reports a write that fails, without throwing", async () => {
    const folder = dir();
    writeFileSync(join(folder, "file"), "");
    const errors: string[] = [];
    const writer = new SnapshotWriter(join(folder, "file", "flags.json"), (m) => errors.push(m));
    writer.write(ruleSet(1, "on"));
    await writer.idle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("could not write snapshot");
  });
});
