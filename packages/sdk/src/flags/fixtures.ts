/** Builders shared by the flag tests (not part of the public surface). */
import { type CompiledFlagSet, compileFlagSet } from "./compile-flag-set.ts";
import type { Clause, FlagSetInput } from "./model.ts";

type FlagInput = FlagSetInput["flags"][string];
type EnvironmentInput = FlagInput["environments"][string];

/** Compiles a set the test means to be valid, failing loudly with its errors otherwise. */
export function compiled(input: FlagSetInput): CompiledFlagSet {
  const result = compileFlagSet(input);
  if (!result.ok) throw new Error(`fixture is invalid: ${JSON.stringify(result.errors, null, 2)}`);
  return result.flagSet;
}

/** A boolean flag with variants `on`/`off` (default `off`) in `production`. */
export function booleanFlag(production: Partial<EnvironmentInput> = {}): FlagInput {
  return {
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: "off",
    environments: { production: { enabled: true, ...production } },
  };
}

/** A set with one boolean flag `f` whose single rule is the given clause, serving `on`. */
export function oneClause(clause: Clause): FlagSetInput {
  return { flags: { f: booleanFlag({ rules: [{ clauses: [clause], variant: "on" }] }) } };
}

/** Deterministic pseudo-random targeting keys, so distribution tests do not flake. */
export function randomKeys(count: number, seed = 1): string[] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return state;
  };
  return Array.from({ length: count }, () => `${next().toString(36)}-${next().toString(36)}`);
}

/** A valid set with a bit of everything, for tests to break one field at a time. */
export function checkoutSet(): FlagSetInput {
  return {
    segments: { beta: { rules: [[{ attribute: "email", operator: "endsWith", values: ["@acme.com"] }]] } },
    plans: { gold: { flags: { checkout: "on" } } },
    flags: {
      cart: booleanFlag(),
      checkout: {
        description: "new checkout",
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        environments: {
          production: {
            enabled: true,
            offVariant: "off",
            prerequisites: [{ flagKey: "cart", variant: "on" }],
            rules: [
              { clauses: [{ attribute: "country", operator: "in", values: ["DK"] }], variant: "on" },
              {
                clauses: [{ operator: "segmentMatch", values: ["beta"] }],
                split: [
                  { variant: "on", weight: 50 },
                  { variant: "off", weight: 50 },
                ],
              },
              { clauses: [{ attribute: "ip", operator: "cidr", values: ["10.0.0.0/8"] }], variant: "on" },
            ],
            fallthrough: { variant: "off" },
          },
        },
      },
    },
  };
}

/**
 * Sets (or with `undefined`, deletes) the field at a path such as
 * `flags.checkout.environments.production.rules[0].variant`, to break a valid set on purpose.
 */
export function setAt(target: unknown, path: string, value: unknown): void {
  const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  const last = keys.pop()!;
  let node = target as Record<string, unknown>;
  for (const key of keys) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[last];
  else node[last] = value;
}
