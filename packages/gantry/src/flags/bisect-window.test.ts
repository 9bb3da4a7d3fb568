import type { Environment, Flag, FlagSet } from "@gantry/sdk";
import { describe, expect, it } from "vitest";
import {
  type ChangeEvent,
  type PrefixTarget,
  prefixSet,
  projections,
  sameProjection,
  windowChanges,
  windowItems,
  withProjections,
} from "./bisect-window.ts";

const ENVS = ["staging", "production"];

function env(enabled: boolean, variant = "on"): Environment {
  return { enabled, prerequisites: [], rules: [], fallthrough: { variant } };
}

function flag(production: Environment, staging: Environment = env(false)): Flag {
  return {
    description: "",
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: "off",
    environments: { staging, production },
  };
}

/** A history built the way the flag service audits it: whole values before and after. */
function history() {
  const events: ChangeEvent[] = [];
  let set: FlagSet = {
    flags: { a: flag(env(false)), b: flag(env(false)), gone: flag(env(true)) },
    segments: {},
    plans: {},
    planAttribute: "plan",
  };
  const start = set;
  const change = (
    subject: string,
    after: unknown,
    environments: string[],
    extra: Record<string, unknown> = {},
  ) => {
    const [kind, key] = subject.split("/") as [string, string];
    const bag = kind === "flag" ? "flags" : "segments";
    const before = (set[bag] as Record<string, unknown>)[key];
    const next = { ...set, [bag]: { ...set[bag] } } as FlagSet;
    if (after === undefined) delete (next[bag] as Record<string, unknown>)[key];
    else (next[bag] as Record<string, unknown>)[key] = after;
    set = next;
    events.push({
      id: events.length + 100,
      at: new Date(Date.UTC(2026, 0, 1, 0, events.length)).toISOString(),
      actor: "alice",
      action: `${kind}.${before === undefined ? "created" : after === undefined ? "deleted" : "updated"}`,
      subject,
      reason: `change ${events.length + 1}`,
      data: {
        environments,
        changes: [{ path: "x" }],
        ...(before !== undefined && { before }),
        ...(after !== undefined && { after }),
        source: "api",
        ...extra,
      },
    });
  };
  change("flag/a", flag(env(true)), ["production"]); // 1
  change("flag/b", flag(env(false), env(true)), ["staging"]); // not production
  change("flag/new", flag(env(true)), ["staging", "production"]); // 2: created
  change("flag/a", { ...flag(env(true)), description: "reworded" }, ["staging", "production"]); // description only
  change("flag/gone", undefined, ["staging", "production"]); // 3: deleted
  change("flag-segment/beta", { description: "", rules: [], included: ["u1"], excluded: [] }, [
    "staging",
    "production",
  ]); // 4
  change("flag/b", flag(env(true, "off"), env(true)), ["production"]); // 5
  change("flag/a", flag(env(false)), ["production"], { source: "bisect" }); // a bisection's own
  change("flag/a", { ...flag(env(true)), description: "reworded" }, ["production"], { source: "bisect" });
  return { events, start, now: set };
}

const where = (now: FlagSet, target = "production"): PrefixTarget => ({
  source: "production",
  target,
  environments: ENVS,
  present: new Set(Object.keys(now.flags)),
});

describe("the changes of a bisection window", () => {
  it("keeps the changes that altered what the environment serves, oldest first, numbered", () => {
    const { events } = history();
    const changes = windowChanges([...events].reverse(), "production");
    expect(changes.map((c) => [c.seq, c.kind, c.key, c.action])).toEqual([
      [1, "flag", "a", "flag.updated"],
      [2, "flag", "new", "flag.created"],
      [3, "flag", "gone", "flag.deleted"],
      [4, "segment", "beta", "flag-segment.created"],
      [5, "flag", "b", "flag.updated"],
    ]);
    expect(changes[0]).toMatchObject({ auditId: 100, actor: "alice", reason: "change 1", fields: ["x"] });
    expect(windowItems(changes).map((i) => `${i.kind}/${i.key}`)).toEqual([
      "flag/a",
      "flag/new",
      "flag/gone",
      "segment/beta",
      "flag/b",
    ]);
  });

  it("prefix 0 serves the environment as before the window and prefix n as now; other environments stay", () => {
    const { events, start, now } = history();
    const changes = windowChanges(events, "production");
    const before = prefixSet(now, changes, 0, where(now));
    expect(before.flags.a!.environments.production).toEqual(start.flags.a!.environments.production);
    // A reworded description serves nothing: it is neither reverted nor compared.
    expect(before.flags.a!.description).toBe("reworded");
    expect(before.flags.b!.environments.production).toEqual(env(false));
    // b's staging change is outside the window: it stays as it is now.
    expect(before.flags.b!.environments.staging).toEqual(env(true));
    // Created in the window: off in production, not deleted; its staging is untouched.
    expect(before.flags.new!.environments.production!.enabled).toBe(false);
    expect(before.flags.new!.environments.staging).toEqual(now.flags.new!.environments.staging);
    // Deleted in the window: back, as it was in production, off elsewhere.
    expect(before.flags.gone!.environments.production).toEqual(env(true));
    expect(before.flags.gone!.environments.staging!.enabled).toBe(false);
    expect(before.segments.beta).toBeUndefined();

    const all = prefixSet(now, changes, changes.length, where(now));
    expect(projections(all, windowItems(changes), "production")).toEqual(
      projections(now, windowItems(changes), "production"),
    );
  });

  it("a prefix applies exactly the first k changes", () => {
    const { events, now } = history();
    const changes = windowChanges(events, "production");
    const two = prefixSet(now, changes, 2, where(now));
    expect(two.flags.a!.environments.production!.enabled).toBe(true);
    expect(two.flags.new!.environments.production!.enabled).toBe(true);
    expect(two.flags.gone).toBeDefined();
    expect(two.segments.beta).toBeUndefined();
    expect(two.flags.b!.environments.production!.enabled).toBe(false);
    const four = prefixSet(now, changes, 4, where(now));
    expect(four.flags.gone).toBeUndefined();
    expect(four.segments.beta).toBeDefined();
    expect(four.flags.b!.environments.production!.enabled).toBe(false);
  });

  it("applies the source's history to another target environment, leaving the source alone", () => {
    const { events, now } = history();
    const changes = windowChanges(events, "production");
    const onStaging = prefixSet(now, changes, 0, where(now, "staging"));
    expect(onStaging.flags.b!.environments.staging).toEqual(env(false));
    expect(onStaging.flags.b!.environments.production).toEqual(now.flags.b!.environments.production);
  });

  it("projections written back restore a set, and a flag absent at the start is removed again", () => {
    const { events, now } = history();
    const changes = windowChanges(events, "production");
    const items = windowItems(changes);
    const original = projections(now, items, "production");
    const changed = prefixSet(now, changes, 0, where(now));
    expect(sameProjection(projections(changed, items, "production")["flag/a"], original["flag/a"])).toBe(
      false,
    );
    const restored = withProjections(changed, items, original, where(now));
    expect(projections(restored, items, "production")).toEqual(original);
    expect(restored.flags.gone).toBeUndefined();
    expect(restored.segments.beta).toEqual(now.segments.beta);
  });
});
