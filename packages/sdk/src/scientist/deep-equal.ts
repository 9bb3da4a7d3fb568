import { isDeepStrictEqual } from "node:util";

/** Past this depth the structure may be cyclic: hand over to Node's cycle-safe comparison. */
const MAX_DEPTH = 64;

/**
 * Deep strict equality, the default `compare`. Plain objects and arrays (what behaviours
 * return most) are compared here because `util.isDeepStrictEqual` costs about a
 * microsecond even on tiny objects; anything else (Map, Set, Date, class instances,
 * typed arrays, cycles) goes to `isDeepStrictEqual`, which knows their semantics.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  return equalAt(a, b, 0);
}

function equalAt(a: unknown, b: unknown, depth: number): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (depth > MAX_DEPTH) return isDeepStrictEqual(a, b);
  const proto = Object.getPrototypeOf(a);
  if (proto !== Object.getPrototypeOf(b)) return false;
  if (proto === Array.prototype) return arraysEqual(a as unknown[], b as unknown[], depth);
  if (proto === Object.prototype || proto === null) {
    return objectsEqual(a as Record<string, unknown>, b as Record<string, unknown>, depth);
  }
  return isDeepStrictEqual(a, b);
}

function arraysEqual(a: unknown[], b: unknown[], depth: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    // Holes and explicit undefined differ under strict deep equality.
    if (!(i in a) !== !(i in b)) return false;
    if (!equalAt(a[i], b[i], depth + 1)) return false;
  }
  // Named (non-index) properties of arrays are not compared: listing them costs a string per element.
  return true;
}

function objectsEqual(a: Record<string, unknown>, b: Record<string, unknown>, depth: number): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key) || !equalAt(a[key], b[key], depth + 1)) return false;
  }
  return symbolsEqual(a, b);
}

function symbolsEqual(a: object, b: object): boolean {
  const sa = Object.getOwnPropertySymbols(a);
  const sb = Object.getOwnPropertySymbols(b);
  if (sa.length === 0 && sb.length === 0) return true;
  return isDeepStrictEqual(a, b);
}
