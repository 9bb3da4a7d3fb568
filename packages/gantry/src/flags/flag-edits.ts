import { type FlagSet, type FlagSetIssue, validateFlagSet } from "@gantry/sdk";
import { GantryError } from "../errors/index.ts";
import { type FlagEnvironment, isRecord, unknownEnvironments, withAllEnvironments } from "./flag-model.ts";

/**
 * A flag set as an edit leaves it, before validation: the edits below take the current
 * (valid) set and what a person or file asked for, and return this; `settle` decides.
 */
export interface CandidateSet {
  flags: Record<string, unknown>;
  segments: Record<string, unknown>;
  plans: Record<string, unknown>;
  planAttribute: unknown;
}

export type PartKind = "segments" | "plans";

const singular = { segments: "segment", plans: "plan" } as const;

function candidate(set: FlagSet): CandidateSet {
  return {
    flags: { ...set.flags },
    segments: { ...set.segments },
    plans: { ...set.plans },
    planAttribute: set.planAttribute,
  };
}

function flagInput(input: unknown): Record<string, unknown> {
  if (!isRecord(input))
    throw new GantryError("BAD_REQUEST", "a flag is a JSON object: {type, variants, defaultVariant, ...}", {
      field: "flag",
    });
  return input;
}

export function requireFlag(set: FlagSet, key: string): FlagSet["flags"][string] {
  const flag = Object.hasOwn(set.flags, key) ? set.flags[key] : undefined;
  if (!flag)
    throw new GantryError("NOT_FOUND", `no flag "${key}"; \`gantry flags list\` shows the flags`, {
      field: "key",
    });
  return flag;
}

export function requireEnvironment(environments: readonly FlagEnvironment[], name: string): FlagEnvironment {
  const found = environments.find((e) => e.name === name);
  if (!found)
    throw new GantryError(
      "NOT_FOUND",
      `no flag environment "${name}"; gantry.yaml flags.environments lists: ${environments.map((e) => e.name).join(", ")}`,
      { field: "environment" },
    );
  return found;
}

/** A new flag; environments it leaves out are off. */
export function createFlag(
  set: FlagSet,
  key: string,
  input: unknown,
  environments: readonly FlagEnvironment[],
): CandidateSet {
  if (Object.hasOwn(set.flags, key))
    throw new GantryError(
      "CONFLICT",
      `flag "${key}" exists; change it with \`gantry flags set\` or PUT /api/v1/flags/${key}`,
      { field: "key" },
    );
  const next = candidate(set);
  next.flags[key] = withAllEnvironments(flagInput(input), environments);
  return next;
}

/** The whole flag replaced; environments it leaves out are off. */
export function replaceFlag(
  set: FlagSet,
  key: string,
  input: unknown,
  environments: readonly FlagEnvironment[],
): CandidateSet {
  requireFlag(set, key);
  const next = candidate(set);
  next.flags[key] = withAllEnvironments(flagInput(input), environments);
  return next;
}

/** One environment of a flag replaced (on/off, rules, fallthrough, off variant, prerequisites). */
export function setEnvironment(set: FlagSet, key: string, environment: string, input: unknown): CandidateSet {
  const flag = requireFlag(set, key);
  const next = candidate(set);
  next.flags[key] = { ...flag, environments: { ...flag.environments, [environment]: input } };
  return next;
}

/** Some fields of one environment of a flag set, the others kept (scheduled changes). */
export function patchEnvironment(
  set: FlagSet,
  key: string,
  environment: string,
  patch: Record<string, unknown>,
): CandidateSet {
  const flag = requireFlag(set, key);
  return setEnvironment(set, key, environment, { ...flag.environments[environment], ...patch });
}

/**
 * The kill switch: the flag off in the environment, so it serves its off variant (the
 * environment's `offVariant`, else the flag's default variant) to everyone. With a variant,
 * that variant becomes the off variant first.
 */
export function killFlag(set: FlagSet, key: string, environment: string, variant?: string): CandidateSet {
  const patch: Record<string, unknown> = { enabled: false };
  if (variant !== undefined) patch.offVariant = variant;
  return patchEnvironment(set, key, environment, patch);
}

export function removeFlag(set: FlagSet, key: string): CandidateSet {
  requireFlag(set, key);
  const next = candidate(set);
  delete next.flags[key];
  return next;
}

export function putPart(set: FlagSet, kind: PartKind, key: string, input: unknown): CandidateSet {
  const next = candidate(set);
  next[kind][key] = input;
  return next;
}

export function removePart(set: FlagSet, kind: PartKind, key: string): CandidateSet {
  if (!Object.hasOwn(set[kind], key))
    throw new GantryError("NOT_FOUND", `no ${singular[kind]} "${key}"`, { field: "key" });
  const next = candidate(set);
  delete next[kind][key];
  return next;
}

/** A declarative document (flags.yaml, or gantry.yaml `flags:`). */
export interface FlagDocument {
  flags?: Record<string, unknown> | undefined;
  segments?: Record<string, unknown> | undefined;
  plans?: Record<string, unknown> | undefined;
  planAttribute?: string | undefined;
}

/**
 * The set a document asks for: what it defines replaces what is there; with prune, what it
 * does not define goes away.
 */
export function applyDocument(
  set: FlagSet,
  document: FlagDocument,
  prune: boolean,
  environments: readonly FlagEnvironment[],
): CandidateSet {
  const next = prune
    ? { flags: {}, segments: {}, plans: {}, planAttribute: document.planAttribute ?? "plan" }
    : candidate(set);
  for (const [key, flag] of Object.entries(document.flags ?? {}))
    next.flags[key] = isRecord(flag) ? withAllEnvironments(flag, environments) : flag;
  Object.assign(next.segments, document.segments ?? {});
  Object.assign(next.plans, document.plans ?? {});
  if (document.planAttribute !== undefined) next.planAttribute = document.planAttribute;
  return next;
}

export type Settled = { ok: true; set: FlagSet } | { ok: false; issues: FlagSetIssue[] };

/** Validates a candidate with the shared evaluator's rules plus the configured environments. */
export function settle(next: CandidateSet, environments: readonly FlagEnvironment[]): Settled {
  const validation = validateFlagSet(next);
  const issues = [
    ...unknownEnvironments(next as { flags: Record<string, { environments?: unknown }> }, environments),
    ...(validation.ok ? [] : validation.errors),
  ];
  if (issues.length > 0 || !validation.ok) return { ok: false, issues };
  return { ok: true, set: validation.flagSet };
}

/** The error for a candidate that failed: every problem with its field path; nothing was changed. */
export function invalidFlagSet(issues: readonly FlagSetIssue[]): GantryError {
  const problems = issues.map((i) => `${i.path}: ${i.message}`);
  return new GantryError(
    "INVALID_FLAG_SET",
    `the change would make the flag set invalid, so nothing was changed:\n  ${problems.join("\n  ")}`,
    { field: issues[0]?.path ?? "(root)", details: { problems, issues } },
  );
}
