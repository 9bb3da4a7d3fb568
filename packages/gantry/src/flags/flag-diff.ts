import { isRecord, stableJson } from "./flag-model.ts";

/**
 * One changed field: its path (`environments.production.rules[1].variant`) and the values
 * before and after; a side is absent when the field did not exist there.
 */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/**
 * The fields that differ between two JSON values: objects key by key; arrays of the same
 * length edited in place element by element, otherwise as elements removed and added.
 * Equal values give [].
 */
export function diffValues(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (stableJson(before) === stableJson(after)) return [];
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => {
      const at = path ? `${path}.${k}` : k;
      if (!Object.hasOwn(after, k)) return [{ path: at, before: before[k] }];
      if (!Object.hasOwn(before, k)) return [{ path: at, after: after[k] }];
      return diffValues(before[k], after[k], at);
    });
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length === after.length && !samePermuted(before, after)) {
      // Same places, edited in place (a rule's variant changed): field by field.
      return before.flatMap((b, i) => diffValues(b, after[i], `${path}[${i}]`));
    }
    return insertionsAndRemovals(before, after, path);
  }
  return [{ path: path || "(root)", before, after }];
}

function samePermuted(a: unknown[], b: unknown[]): boolean {
  const sorted = (xs: unknown[]) =>
    xs
      .map((x) => stableJson(x))
      .sort()
      .join("\u0000");
  return sorted(a) === sorted(b);
}

/**
 * Elements added, removed or moved (a rule inserted at the top, two rules swapped): the
 * longest run kept in order stays unmentioned, the rest is reported as removed (index in
 * before) or added (index in after).
 */
function insertionsAndRemovals(before: unknown[], after: unknown[], path: string): FieldChange[] {
  const a = before.map((x) => stableJson(x));
  const b = after.map((x) => stableJson(x));
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const removed: FieldChange[] = [];
  const added: FieldChange[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j >= b.length || (i < a.length && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      removed.push({ path: `${path}[${i}]`, before: before[i] });
      i++;
    } else {
      added.push({ path: `${path}[${j}]`, after: after[j] });
      j++;
    }
  }
  return [...removed, ...added];
}

/** One line a change, for terminals: `environments.production.enabled: false → true`. */
export function describeChange(change: FieldChange): string {
  const show = (v: unknown) => (v === undefined ? "(none)" : JSON.stringify(v));
  return `${change.path}: ${show(change.before)} → ${show(change.after)}`;
}
