import type { Clause, FlagSet } from "../flags/index.ts";

/**
 * The keys of flags whose answer may differ between two flag sets, sorted: flags added,
 * removed or redefined; flags whose rules use a segment that changed; flags a changed plan
 * lists (before or after; all planned flags when the plan attribute changed); and, through
 * prerequisites, every flag that depends on one of those. This is `flagsChanged` of an
 * OpenFeature PROVIDER_CONFIGURATION_CHANGED event.
 */
export function changedFlags(before: FlagSet | undefined, after: FlagSet): string[] {
  const changed = new Set<string>();
  const flagKeys = new Set([...Object.keys(before?.flags ?? {}), ...Object.keys(after.flags)]);
  for (const key of flagKeys) {
    if (!same(entry(before?.flags, key), entry(after.flags, key))) changed.add(key);
  }
  if (!before) return [...changed].sort();

  const segments = changedKeys(before.segments, after.segments);
  if (segments.size > 0) {
    for (const set of [before, after]) {
      for (const [key, flag] of Object.entries(set.flags)) {
        if (usesSegment(flag, segments)) changed.add(key);
      }
    }
  }
  const planAttributeChanged = before.planAttribute !== after.planAttribute;
  const plans = planAttributeChanged
    ? new Set([...Object.keys(before.plans), ...Object.keys(after.plans)])
    : changedKeys(before.plans, after.plans);
  for (const plan of plans) {
    for (const key of Object.keys(entry(before.plans, plan)?.flags ?? {})) changed.add(key);
    for (const key of Object.keys(entry(after.plans, plan)?.flags ?? {})) changed.add(key);
  }
  addDependents(changed, [before, after]);
  return [...changed].filter((key) => flagKeys.has(key)).sort();
}

function changedKeys<T>(before: Record<string, T>, after: Record<string, T>): Set<string> {
  const keys = new Set<string>();
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!same(entry(before, key), entry(after, key))) keys.add(key);
  }
  return keys;
}

function usesSegment(flag: FlagSet["flags"][string], segments: ReadonlySet<string>): boolean {
  const uses = (clause: Clause) =>
    clause.operator === "segmentMatch" && clause.values.some((v) => segments.has(String(v)));
  return Object.values(flag.environments).some((environment) =>
    environment.rules.some((rule) => rule.clauses.some(uses)),
  );
}

/** Adds, until nothing more changes, every flag with a prerequisite among the changed ones. */
function addDependents(changed: Set<string>, sets: readonly FlagSet[]): void {
  let grew = true;
  while (grew) {
    grew = false;
    for (const set of sets) {
      for (const [key, flag] of Object.entries(set.flags)) {
        if (changed.has(key)) continue;
        const dependsOnChanged = Object.values(flag.environments).some((environment) =>
          environment.prerequisites.some((p) => changed.has(p.flagKey)),
        );
        if (dependsOnChanged) {
          changed.add(key);
          grew = true;
        }
      }
    }
  }
}

function entry<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
