import type { FlagSet } from "@gantry/sdk";
import { describe, expect, it } from "vitest";
import { itemChanges, servedChanges } from "./flag-changes.ts";
import { createFlag, killFlag, settle } from "./flag-edits.ts";
import { emptyFlagSet, type FlagEnvironment } from "./flag-model.ts";

const environments: FlagEnvironment[] = [
  { name: "staging", protected: false },
  { name: "production", protected: true },
];
const flag = { type: "boolean", variants: { on: true, off: false }, defaultVariant: "off" };

function valid(set: ReturnType<typeof createFlag>): FlagSet {
  const settled = settle(set, environments);
  if (!settled.ok) throw new Error(JSON.stringify(settled.issues));
  return settled.set;
}

describe("what a change alters", () => {
  const base = valid(
    createFlag(
      emptyFlagSet(),
      "a",
      { ...flag, environments: { production: { enabled: true } } },
      environments,
    ),
  );

  it("counts a new flag where it is on, and not where it is off when new flags off are exempt", () => {
    const next = valid(
      createFlag(base, "b", { ...flag, environments: { staging: { enabled: true } } }, environments),
    );
    const names = (exempt: boolean) =>
      servedChanges(base, next, environments, { exemptNewOffFlags: exempt }).map((e) => e.name);
    expect(names(true)).toEqual(["staging"]);
    expect(names(false)).toEqual(["staging", "production"]);
  });

  it("does not count a reworded description as changing what an environment serves", () => {
    const reworded = valid({ ...base, flags: { a: { ...base.flags.a!, description: "clearer" } } } as never);
    expect(servedChanges(base, reworded, environments, { exemptNewOffFlags: true })).toEqual([]);
  });

  it("ties a change of one environment to that environment only, and a change of variants to all", () => {
    const killed = valid(killFlag(base, "a", "production"));
    expect(itemChanges(base, killed, environments)).toMatchObject([
      {
        kind: "flag",
        key: "a",
        change: "updated",
        environments: ["production"],
        fields: [{ path: "environments.production.enabled", before: true, after: false }],
      },
    ]);
    const renamed = valid({
      ...base,
      flags: { a: { ...base.flags.a!, description: "now described" } },
    } as never);
    expect(itemChanges(base, renamed, environments)[0]!.environments).toEqual(["staging", "production"]);
  });

  it("refuses a flag naming an environment gantry.yaml does not list", () => {
    const settled = settle(
      createFlag(base, "c", { ...flag, environments: { prod: { enabled: true } } }, environments),
      environments,
    );
    expect(settled.ok).toBe(false);
    expect(!settled.ok && settled.issues[0]).toMatchObject({ path: "flags.c.environments.prod" });
  });
});
