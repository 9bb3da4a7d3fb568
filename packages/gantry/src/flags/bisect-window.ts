import type { Environment, Flag, FlagSet } from "@gantry/sdk";
import { disabledEnvironment, stableJson } from "./flag-model.ts";

/**
 * The changes a bisection searches, and the flag set "as it was after the k-th of them", as
 * pure functions of audit events. Flags, segments, plans and the plan attribute are items;
 * each change event of one carries its whole value before and after (flag-service.ts).
 *
 * A bisection reads the history of one environment (the source) and applies it to one
 * environment (the target: the same, or e.g. staging to try production's changes there).
 * For a flag, what the source serves is its shared fields (type, variants, default) and its
 * source environment; only those are taken from history, into the target environment, so
 * the flag's other environments stay as they are.
 */

export type ItemKind = "flag" | "segment" | "plan" | "planAttribute";

export interface WindowChange {
  /** 1-based position in the window, oldest first. */
  readonly seq: number;
  readonly auditId: number;
  readonly at: string;
  readonly actor: string;
  readonly reason: string | null;
  readonly action: string;
  readonly kind: ItemKind;
  readonly key: string;
  /** The item's whole value before and after; undefined when it did not exist. */
  readonly before: unknown;
  readonly after: unknown;
  /** The changed field paths, as the audit event lists them. */
  readonly fields: readonly string[];
}

/** The part of an audit event a window reads (audit/AuditEvent has more). */
export interface ChangeEvent {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly subject: string | null;
  readonly reason: string | null;
  readonly data: Record<string, unknown>;
}

/** What an item is in the target environment, as compared and restored: JSON-able. */
export type ItemProjection = unknown;

const subjectKinds: [prefix: string, kind: ItemKind][] = [
  ["flag/", "flag"],
  ["flag-segment/", "segment"],
  ["flag-plan/", "plan"],
];

/**
 * The changes that altered what `environment` serves, oldest first: flag, segment, plan and
 * plan-attribute events whose environments include it, leaving out a bisection's own
 * temporary changes and changes that only reworded a description.
 */
export function windowChanges(events: readonly ChangeEvent[], environment: string): WindowChange[] {
  const changes: WindowChange[] = [];
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    const item = itemOf(event.subject);
    if (!item) continue;
    if (event.data.source === "bisect") continue;
    const environments = event.data.environments;
    if (!Array.isArray(environments) || !environments.includes(environment)) continue;
    const { before, after } = event.data;
    if (
      stableJson(served(item.kind, before, environment)) === stableJson(served(item.kind, after, environment))
    )
      continue;
    const fields = Array.isArray(event.data.changes)
      ? event.data.changes.map((c) => String((c as { path?: unknown }).path))
      : [];
    changes.push({
      seq: changes.length + 1,
      auditId: event.id,
      at: event.at,
      actor: event.actor,
      reason: event.reason,
      action: event.action,
      kind: item.kind,
      key: item.key,
      before,
      after,
      fields,
    });
  }
  return changes;
}

function itemOf(subject: string | null): { kind: ItemKind; key: string } | undefined {
  if (subject === "flag-set") return { kind: "planAttribute", key: "planAttribute" };
  for (const [prefix, kind] of subjectKinds)
    if (subject?.startsWith(prefix)) return { kind, key: subject.slice(prefix.length) };
  return undefined;
}

/** What an item's value serves in an environment, descriptions left out (they serve nothing). */
function served(kind: ItemKind, value: unknown, environment: string): unknown {
  if (value === undefined || value === null) return null;
  if (kind === "planAttribute") return value;
  const { description: _, ...rest } = value as Record<string, unknown>;
  if (kind !== "flag") return rest;
  const flag = rest as unknown as Flag;
  return {
    type: flag.type,
    variants: flag.variants,
    defaultVariant: flag.defaultVariant,
    environment: Object.hasOwn(flag.environments, environment) ? flag.environments[environment] : null,
  };
}

/** `kind/key`, the identity of an item across changes. */
export function itemId(change: { kind: ItemKind; key: string }): string {
  return `${change.kind}/${change.key}`;
}

/** The items the window touches, each once, in order of first change. */
export function windowItems(changes: readonly WindowChange[]): { kind: ItemKind; key: string }[] {
  const seen = new Map<string, { kind: ItemKind; key: string }>();
  for (const c of changes) if (!seen.has(itemId(c))) seen.set(itemId(c), { kind: c.kind, key: c.key });
  return [...seen.values()];
}

/** An item's whole value after the first `prefix` changes: its last change's after, else its first's before. */
export function valueAt(changes: readonly WindowChange[], id: string, prefix: number): unknown {
  let value: unknown;
  let first = true;
  for (const c of changes) {
    if (itemId(c) !== id) continue;
    if (first) value = c.before;
    first = false;
    if (c.seq <= prefix) value = c.after;
  }
  return value;
}

export interface PrefixTarget {
  /** The environment whose history the window is. */
  readonly source: string;
  /** The environment the prefix is applied to. */
  readonly target: string;
  /** Every configured environment (a flag re-created for the target is off in the others). */
  readonly environments: readonly string[];
  /**
   * The flags that existed when the bisection started. One of them that did not exist yet
   * at a prefix is turned off in the target (not deleted, so its history and metadata
   * stay); any other flag absent at a prefix is absent.
   */
  readonly present: ReadonlySet<string>;
}

/**
 * `current` with every item of the window as it was after the first `prefix` changes,
 * in the target environment. A flag that did not exist yet is turned off there (see
 * `PrefixTarget.present`); one deleted since is re-created, off in the other environments;
 * a segment or plan that did not exist yet is removed.
 */
export function prefixSet(
  current: FlagSet,
  changes: readonly WindowChange[],
  prefix: number,
  where: PrefixTarget,
): FlagSet {
  const set: FlagSet = {
    flags: { ...current.flags },
    segments: { ...current.segments },
    plans: { ...current.plans },
    planAttribute: current.planAttribute,
  };
  for (const item of windowItems(changes)) {
    const past = valueAt(changes, itemId(item), prefix);
    writeProjection(set, item, projectionOf(item.kind, past, where.source), where);
  }
  return set;
}

/**
 * What the window's items are in the target environment of `set` (for flags: shared fields
 * and the target environment; otherwise the whole value), keyed by item id. What a
 * bisection compares to tell its own changes from someone else's, and what it restores.
 */
export function projections(
  set: FlagSet,
  items: readonly { kind: ItemKind; key: string }[],
  target: string,
): Record<string, ItemProjection> {
  const out: Record<string, ItemProjection> = {};
  for (const item of items) out[itemId(item)] = projectionOf(item.kind, currentValue(set, item), target);
  return out;
}

/** Writes projections (as `projections` returns them) back into a copy of `set`. */
export function withProjections(
  set: FlagSet,
  items: readonly { kind: ItemKind; key: string }[],
  values: Record<string, ItemProjection>,
  where: PrefixTarget,
): FlagSet {
  const out: FlagSet = {
    flags: { ...set.flags },
    segments: { ...set.segments },
    plans: { ...set.plans },
    planAttribute: set.planAttribute,
  };
  for (const item of items)
    if (Object.hasOwn(values, itemId(item))) writeProjection(out, item, values[itemId(item)], where);
  return out;
}

export function sameProjection(a: ItemProjection, b: ItemProjection): boolean {
  return stableJson(a ?? null) === stableJson(b ?? null);
}

interface FlagProjection {
  /** Descriptions serve nothing: they are neither compared nor set back. */
  readonly flag: Omit<Flag, "environments" | "description">;
  /** The environment's settings, or null: the flag did not exist. */
  readonly environment: Environment | null;
}

function currentValue(set: FlagSet, item: { kind: ItemKind; key: string }): unknown {
  switch (item.kind) {
    case "flag":
      return Object.hasOwn(set.flags, item.key) ? set.flags[item.key] : undefined;
    case "segment":
      return Object.hasOwn(set.segments, item.key) ? set.segments[item.key] : undefined;
    case "plan":
      return Object.hasOwn(set.plans, item.key) ? set.plans[item.key] : undefined;
    case "planAttribute":
      return set.planAttribute;
  }
}

function projectionOf(kind: ItemKind, value: unknown, environment: string): ItemProjection {
  if (value === undefined || value === null) return null;
  if (kind === "planAttribute") return value;
  const { description: _, ...rest } = value as { description?: string };
  if (kind !== "flag") return rest;
  const { environments, ...flag } = rest as Omit<Flag, "description">;
  const own = Object.hasOwn(environments, environment) ? environments[environment]! : disabledEnvironment();
  return { flag, environment: own } satisfies FlagProjection;
}

function writeProjection(
  set: FlagSet,
  item: { kind: ItemKind; key: string },
  value: ItemProjection,
  where: PrefixTarget,
): void {
  switch (item.kind) {
    case "flag": {
      const existing = Object.hasOwn(set.flags, item.key) ? set.flags[item.key] : undefined;
      if (value === null) {
        if (!where.present.has(item.key)) {
          delete set.flags[item.key];
          return;
        }
        if (existing) {
          const environment = existing.environments[where.target] ?? disabledEnvironment();
          set.flags[item.key] = {
            ...existing,
            environments: { ...existing.environments, [where.target]: { ...environment, enabled: false } },
          };
        }
        return;
      }
      const projection = value as FlagProjection;
      const environments = existing
        ? { ...existing.environments }
        : Object.fromEntries(where.environments.map((e) => [e, disabledEnvironment()]));
      environments[where.target] = projection.environment ?? disabledEnvironment();
      set.flags[item.key] = {
        description: existing?.description ?? "",
        ...projection.flag,
        environments,
      } as Flag;
      return;
    }
    case "segment":
    case "plan": {
      const record = (item.kind === "segment" ? set.segments : set.plans) as Record<
        string,
        { description?: string }
      >;
      if (value === null) delete record[item.key];
      else
        record[item.key] = {
          description: (Object.hasOwn(record, item.key) && record[item.key]!.description) || "",
          ...(value as object),
        };
      return;
    }
    case "planAttribute":
      if (typeof value === "string") set.planAttribute = value;
      return;
  }
}
