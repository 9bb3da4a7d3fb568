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
