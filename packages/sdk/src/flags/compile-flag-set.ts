import { compileSegment, type Matcher } from "./clauses.ts";
import { compileEnvironment, type EnvironmentEvaluator } from "./compile-environment.ts";
import type { FlagSet, FlagType } from "./model.ts";
import type { FlagSetIssue } from "./types.ts";
import { validateFlagSet } from "./validate-flag-set.ts";

declare const compiled: unique symbol;

/** One flag ready to evaluate: an evaluator per environment it is defined in. */
export interface CompiledFlag {
  readonly key: string;
  readonly type: FlagType;
  readonly environments: ReadonlyMap<string, EnvironmentEvaluator>;
}

/** A validated flag set turned into closures and lookup tables; only `compileFlagSet` makes one. */
export interface CompiledFlagSet {
  readonly [compiled]: true;
  /** The validated set, defaults filled in. */
  readonly source: FlagSet;
  readonly flags: ReadonlyMap<string, CompiledFlag>;
}

export type FlagSetCompilation =
  | { readonly ok: true; readonly flagSet: CompiledFlagSet }
  | { readonly ok: false; readonly errors: readonly FlagSetIssue[] };

/**
 * Validates a flag set (see `validateFlagSet`) and compiles it once: regexes, versions,
 * CIDR blocks and dates parsed, segments turned into matchers, results prebuilt. A set
 * that fails validation is never compiled, so it can never be evaluated. Never throws.
 */
export function compileFlagSet(input: unknown): FlagSetCompilation {
  const validation = validateFlagSet(input);
  if (!validation.ok) return validation;
  try {
    return { ok: true, flagSet: build(validation.flagSet) };
  } catch (error) {
    return { ok: false, errors: [{ path: "(root)", message: `could not compile: ${String(error)}` }] };
  }
}

function build(set: FlagSet): CompiledFlagSet {
  const segments = new Map<string, Matcher>();
  for (const [key, segment] of Object.entries(set.segments)) segments.set(key, compileSegment(segment));
  const flags = new Map<string, CompiledFlag>();
  const lookup = (flagKey: string, environment: string) => flags.get(flagKey)?.environments.get(environment);
  for (const [flagKey, flag] of Object.entries(set.flags)) {
    const environments = new Map<string, EnvironmentEvaluator>();
    for (const [name, environment] of Object.entries(flag.environments)) {
      environments.set(name, compileEnvironment({ set, flagKey, flag, name, environment, segments, lookup }));
    }
    flags.set(flagKey, Object.freeze({ key: flagKey, type: flag.type, environments }));
  }
  return Object.freeze({ source: set, flags }) as unknown as CompiledFlagSet;
}
