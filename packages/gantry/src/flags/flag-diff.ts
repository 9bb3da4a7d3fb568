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
 * The fields that differ between two JSON values, deepest first reached: objects key by key,
 * arrays element by element (extra elements are added or removed ones). Equal values give [].
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
    const changes: FieldChange[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const at = `${path}[${i}]`;
      if (i >= after.length) changes.push({ path: at, before: before[i] });
      else if (i >= before.length) changes.push({ path: at, after: after[i] });
      else changes.push(...diffValues(before[i], after[i], at));
    }
    return changes;
  }
  return [{ path: path || "(root)", before, after }];
}

/** One line a change, for terminals: `environments.production.enabled: false → true`. */
export function describeChange(change: FieldChange): string {
  const show = (v: unknown) => (v === undefined ? "(none)" : JSON.stringify(v));
  return `${change.path}: ${show(change.before)} → ${show(change.after)}`;
}
