import type { FlagSet } from "@gantry/sdk";
import { diffValues, type FieldChange } from "./flag-diff.ts";
import { digestOf, type FlagEnvironment, projectEnvironment } from "./flag-model.ts";
import { changedKeys } from "./flag-store.ts";

export type ItemKind = "flag" | "segment" | "plan" | "planAttribute";

/** One flag, segment or plan that a change creates, updates or deletes, with its field diff. */
export interface ItemChange {
  kind: ItemKind;
  key: string;
  change: "created" | "updated" | "deleted";
  before?: unknown;
  after?: unknown;
  fields: FieldChange[];
  /** The environments whose served flag set this item's change alters. */
  environments: string[];
}

/** Every item that differs between two valid sets, flags first, each with its field diff. */
export function itemChanges(
  before: FlagSet,
  after: FlagSet,
  environments: readonly FlagEnvironment[],
): ItemChange[] {
  const all = environments.map((e) => e.name);
  const changes: ItemChange[] = [];
  const kinds = [
    ["flag", "flags"],
    ["segment", "segments"],
    ["plan", "plans"],
  ] as const;
  for (const [kind, field] of kinds) {
    for (const key of changedKeys(before[field], after[field])) {
      const b = Object.hasOwn(before[field], key) ? before[field][key] : undefined;
      const a = Object.hasOwn(after[field], key) ? after[field][key] : undefined;
      // A created or deleted item's whole value is its after or before.
      const fields = b !== undefined && a !== undefined ? diffValues(b, a) : [];
      changes.push({
        kind,
        key,
        change: b === undefined ? "created" : a === undefined ? "deleted" : "updated",
        ...(b !== undefined && { before: b }),
        ...(a !== undefined && { after: a }),
        fields,
        environments: kind === "flag" && b && a ? environmentsTouched(fields, all) : all,
      });
    }
  }
  if (before.planAttribute !== after.planAttribute) {
    changes.push({
      kind: "planAttribute",
      key: "planAttribute",
      change: "updated",
      before: before.planAttribute,
      after: after.planAttribute,
      fields: [{ path: "planAttribute", before: before.planAttribute, after: after.planAttribute }],
      environments: all,
    });
  }
  return changes;
}

/** A flag change only under `environments.X` touches X; anything else (variants, type) touches all. */
function environmentsTouched(fields: FieldChange[], all: string[]): string[] {
  const touched = new Set<string>();
  for (const f of fields) {
    const match = /^environments\.([^.[]+)/.exec(f.path);
    if (!match) return all;
    touched.add(match[1]!);
  }
  return all.filter((e) => touched.has(e));
}

/**
 * The environments where some context would be served something else (descriptions do not
 * count). A flag this change creates counts only where it is on: adding a flag that is off
 * in production does not need the rights that changing production needs.
 */
export function servedChanges(
  before: FlagSet,
  after: FlagSet,
  environments: readonly FlagEnvironment[],
  options: { exemptNewOffFlags: boolean },
): FlagEnvironment[] {
  return environments.filter((e) => {
    let target = after;
    if (options.exemptNewOffFlags) {
      const flags = { ...after.flags };
      for (const [key, flag] of Object.entries(after.flags)) {
        if (!Object.hasOwn(before.flags, key) && flag.environments[e.name]?.enabled !== true)
          delete flags[key];
      }
      target = { ...after, flags };
    }
    return servedDigest(before, e.name) !== servedDigest(target, e.name);
  });
}

/** What an environment serves, descriptions left out: rewording a flag changes nobody's answer. */
function servedDigest(set: FlagSet, environment: string): string {
  const projected = projectEnvironment(set, environment);
  const bare = <T extends { description?: string }>(record: Record<string, T>) =>
    Object.fromEntries(Object.entries(record).map(([k, { description: _, ...rest }]) => [k, rest]));
  return digestOf({
    ...projected,
    flags: bare(projected.flags),
    segments: bare(projected.segments),
    plans: bare(projected.plans),
  });
}
