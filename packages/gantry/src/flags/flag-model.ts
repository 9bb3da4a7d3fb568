import { createHash } from "node:crypto";
import type { Environment, Flag, FlagSet, FlagSetIssue } from "@gantry/sdk";

/** An environment flags are evaluated in (gantry.yaml `flags.environments`). */
export interface FlagEnvironment {
  readonly name: string;
  /** Changing what it serves needs role admin; elsewhere deployer. */
  readonly protected: boolean;
}

/** Who made a flag and who changed it last; `version` grows by one on every change of it. */
export interface FlagMeta {
  version: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** The whole state: the flag set (every configured environment in every flag) and flag metadata. */
export interface FlagState {
  readonly set: FlagSet;
  readonly meta: ReadonlyMap<string, FlagMeta>;
}

/** What an environment serves when a flag says nothing about it: the flag off. */
export function disabledEnvironment(): Environment {
  return { enabled: false, prerequisites: [], rules: [] };
}

export const emptyFlagSet = (): FlagSet => ({ flags: {}, segments: {}, plans: {}, planAttribute: "plan" });

/**
 * The flag set one environment's SDKs receive: every flag with only that environment, and
 * all segments and plans (the evaluator resolves references within it).
 */
export function projectEnvironment(set: FlagSet, environment: string): FlagSet {
  const flags: Record<string, Flag> = {};
  for (const key of Object.keys(set.flags).sort()) {
    const flag = set.flags[key]!;
    const own = Object.hasOwn(flag.environments, environment) ? flag.environments[environment] : undefined;
    if (own) flags[key] = { ...flag, environments: { [environment]: own } };
  }
  return { flags, segments: set.segments, plans: set.plans, planAttribute: set.planAttribute };
}

/**
 * The flag input a person or file gives, with environments it leaves out filled in as off,
 * so a flag exists (and serves its off variant) in every configured environment.
 */
export function withAllEnvironments(
  flag: Record<string, unknown>,
  environments: readonly FlagEnvironment[],
): Record<string, unknown> {
  const given = isRecord(flag.environments) ? flag.environments : {};
  const filled: Record<string, unknown> = {};
  for (const e of environments)
    filled[e.name] = Object.hasOwn(given, e.name) ? given[e.name] : disabledEnvironment();
  // Names gantry.yaml does not list stay, for validation to refuse by name.
  return { ...flag, environments: { ...filled, ...given } };
}

/** Environments a flag names that gantry.yaml does not configure: refused like any other bad field. */
export function unknownEnvironments(
  set: { flags: Record<string, { environments?: unknown }> },
  environments: readonly FlagEnvironment[],
): FlagSetIssue[] {
  const known = new Set(environments.map((e) => e.name));
  const issues: FlagSetIssue[] = [];
  for (const [key, flag] of Object.entries(set.flags)) {
    if (!isRecord(flag.environments)) continue;
    for (const name of Object.keys(flag.environments)) {
      if (!known.has(name))
        issues.push({
          path: `flags.${key}.environments.${name}`,
          message: `unknown environment "${name}"; gantry.yaml flags.environments lists: ${[...known].join(", ")}`,
        });
    }
  }
  return issues;
}

/** JSON with object keys sorted, so equal values always give equal text (digests, comparisons). */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

export function digestOf(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex");
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
