import { describe, expect, it } from "vitest";
import { booleanFlag } from "../flags/fixtures.ts";
import { type FlagSet, type FlagSetInput, validateFlagSet } from "../flags/index.ts";
import { changedFlags } from "./changed-flags.ts";

function set(input: FlagSetInput): FlagSet {
  const validation = validateFlagSet(input);
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  return validation.flagSet;
}

const inBeta = { clauses: [{ operator: "segmentMatch" as const, values: ["beta"] }], variant: "on" };
const base: FlagSetInput = {
  flags: {
    checkout: booleanFlag({ rules: [inBeta] }),
    banner: booleanFlag(),
    cart: booleanFlag({ prerequisites: [{ flagKey: "checkout", variant: "on" }] }),
    receipt: booleanFlag({ prerequisites: [{ flagKey: "cart", variant: "on" }] }),
    gold: booleanFlag(),
  },
  segments: { beta: { included: ["u1"] }, unused: { included: ["u2"] } },
  plans: { premium: { flags: { gold: "on" } } },
};

describe("which flags a new flag set changes", () => {
  it("every flag of the first set; none when nothing changed", () => {
    expect(changedFlags(undefined, set(base))).toEqual(["banner", "cart", "checkout", "gold", "receipt"]);
    expect(changedFlags(set(base), set(base))).toEqual([]);
  });

  it("a redefined flag, and what depends on it through prerequisites, transitively", () => {
    const after = structuredClone(base);
    after.flags.checkout!.environments.production!.enabled = false;
    expect(changedFlags(set(base), set(after))).toEqual(["cart", "checkout", "receipt"]);
  });

  it("added and removed flags", () => {
    const after = structuredClone(base);
    delete after.flags.banner;
    after.flags.fresh = booleanFlag();
    expect(changedFlags(set(base), set(after))).toEqual(["banner", "fresh"]);
  });

  it("flags whose rules use a changed segment; an unused segment changes no flag", () => {
    const beta = structuredClone(base);
    beta.segments!.beta!.included = ["u1", "u3"];
    expect(changedFlags(set(base), set(beta))).toEqual(["cart", "checkout", "receipt"]);
    const unused = structuredClone(base);
    unused.segments!.unused!.excluded = ["u9"];
    expect(changedFlags(set(base), set(unused))).toEqual([]);
  });

  it("flags a changed plan lists before or after, and all planned flags when the plan attribute changes", () => {
    const moved = structuredClone(base);
    moved.plans!.premium!.flags = { banner: "on" };
    expect(changedFlags(set(base), set(moved))).toEqual(["banner", "gold"]);
    const attribute = structuredClone(base);
    attribute.planAttribute = "tier";
    expect(changedFlags(set(base), set(attribute))).toEqual(["gold"]);
  });
});
