import { describe, expect, it } from "vitest";
import type { CompiledFlagSet } from "./compile-flag-set.ts";
import { evaluate } from "./evaluate.ts";
import { compiled, randomKeys } from "./fixtures.ts";

const KEYS = randomKeys(100_000);

function splitSet(split: { variant: string; weight: number }[], salt?: string): CompiledFlagSet {
  return compiled({
    flags: {
      exp: {
        type: "string",
        variants: { a: "A", b: "B", c: "C", d: "D" },
        defaultVariant: "a",
        environments: { production: { enabled: true, fallthrough: { split, ...(salt ? { salt } : {}) } } },
      },
    },
  });
}

function assignments(set: CompiledFlagSet, keys = KEYS): string[] {
  return keys.map((targetingKey) => evaluate(set, "exp", "production", { targetingKey }).variant!);
}

function shares(variants: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of variants) counts[v] = (counts[v] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, (n * 100) / variants.length]));
}

describe("percentage splits over 100 000 random keys", () => {
  it.each([
    ["50/50", [50, 50]],
    ["10/90", [10, 90]],
    ["3-way 20/30/50", [20, 30, 50]],
    ["3-way 33.333/33.333/33.334", [33.333, 33.333, 33.334]],
    ["1/99", [1, 99]],
  ])("a %s split lands within one point of its weights", (_, weights) => {
    const names = ["a", "b", "c"];
    const set = splitSet(weights.map((weight, i) => ({ variant: names[i]!, weight })));
    const got = shares(assignments(set));
    weights.forEach((weight, i) => {
      expect(Math.abs((got[names[i]!] ?? 0) - weight)).toBeLessThan(1);
    });
  });

  it("is sticky: the same key gets the same variant every time and in every compilation", () => {
    const split = [
      { variant: "a", weight: 50 },
      { variant: "b", weight: 50 },
    ];
    const first = assignments(splitSet(split), KEYS.slice(0, 5000));
    for (let round = 0; round < 3; round++) {
      expect(assignments(splitSet(split), KEYS.slice(0, 5000))).toEqual(first);
    }
  });

  it("adding a third variant with weight 0 moves nobody, wherever it is listed", () => {
    const before = assignments(
      splitSet([
        { variant: "a", weight: 30 },
        { variant: "b", weight: 70 },
      ]),
    );
    const appended = splitSet([
      { variant: "a", weight: 30 },
      { variant: "b", weight: 70 },
      { variant: "c", weight: 0 },
    ]);
    const inserted = splitSet([
      { variant: "c", weight: 0 },
      { variant: "a", weight: 30 },
      { variant: "b", weight: 70 },
    ]);
    expect(assignments(appended)).toEqual(before);
    expect(assignments(inserted)).toEqual(before);
  });

  it("growing a rollout from 10% to 20% keeps everyone already in and adds only new users", () => {
    const at10 = assignments(
      splitSet([
        { variant: "b", weight: 10 },
        { variant: "a", weight: 90 },
      ]),
    );
    const at20 = assignments(
      splitSet([
        { variant: "b", weight: 20 },
        { variant: "a", weight: 80 },
      ]),
    );
    at10.forEach((variant, i) => {
      if (variant === "b") expect(at20[i]).toBe("b");
    });
    expect(Math.abs(shares(at20)["b"]! - 20)).toBeLessThan(1);
  });

  it("a different salt deals an independent assignment", () => {
    const split = [
      { variant: "a", weight: 50 },
      { variant: "b", weight: 50 },
    ];
    const plain = assignments(splitSet(split));
    const salted = assignments(splitSet(split, "rerun-2"));
    const same = plain.filter((v, i) => v === salted[i]).length / plain.length;
    expect(Math.abs(same - 0.5)).toBeLessThan(0.01);
  });

  it("the flag key takes part, so two flags with the same split do not pick the same users", () => {
    const split = [
      { variant: "on", weight: 50 },
      { variant: "off", weight: 50 },
    ];
    const env = { production: { enabled: true, fallthrough: { split } } };
    const flag = {
      type: "boolean" as const,
      variants: { on: true, off: false },
      defaultVariant: "off",
      environments: env,
    };
    const set = compiled({ flags: { one: flag, two: flag } });
    const keys = KEYS.slice(0, 20_000);
    const both = keys.filter(
      (targetingKey) =>
        evaluate(set, "one", "production", { targetingKey }).value ===
        evaluate(set, "two", "production", { targetingKey }).value,
    ).length;
    expect(Math.abs(both / keys.length - 0.5)).toBeLessThan(0.02);
  });

  it("buckets by another attribute when told to, so a whole company shares a variant", () => {
    const set = compiled({
      flags: {
        exp: {
          type: "string",
          variants: { a: "A", b: "B" },
          defaultVariant: "a",
          environments: {
            production: {
              enabled: true,
              fallthrough: {
                split: [
                  { variant: "a", weight: 50 },
                  { variant: "b", weight: 50 },
                ],
                bucketBy: "companyId",
              },
            },
          },
        },
      },
    });
    for (const companyId of ["acme", 42, "Ærøskøbing-AS", "用户-42"]) {
      const served = new Set(
        KEYS.slice(0, 200).map(
          (targetingKey) => evaluate(set, "exp", "production", { targetingKey, companyId }).variant,
        ),
      );
      expect(served.size).toBe(1);
    }
    expect(evaluate(set, "exp", "production", { targetingKey: "u", companyId: 42 })).toEqual(
      evaluate(set, "exp", "production", { targetingKey: "v", companyId: "42" }),
    );
  });
});
