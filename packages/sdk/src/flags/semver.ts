/**
 * A small, strict semantic-version matcher for targeting (SemVer 2.0.0 precedence).
 * Versions in a context must be complete (`2.3.0`, `2.3.0-beta.1`, `2.3.0+build.7`); no
 * leading `v`, no leading zeros. Ranges accept the comparators users write most, each with
 * npm's meaning of a partial version: `<`, `<=`, `>`, `>=`, `=` or none, `^`, `~`, `*`,
 * joined by spaces (all must hold) and `||` (any set may hold). Unlike npm, a prerelease
 * version is compared by plain precedence: `3.0.0-beta` satisfies `<3.0.0` but not `<3`,
 * since a partial version stands for all of its versions: `<3` is "below every 3.x"
 * (`<3.0.0-0`) and `>=3` includes `3.0.0-beta`.
 */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly (string | number)[];
}

export type VersionPredicate = (version: SemVer) => boolean;

const NUM = "0|[1-9]\\d*";
const IDENT = "(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)";
const VERSION = new RegExp(
  `^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);
const COMPARATOR = new RegExp(
  `^(<=|>=|<|>|=|\\^|~)?(${NUM})(?:\\.(${NUM})(?:\\.(${NUM})(?:-(${IDENT}(?:\\.${IDENT})*))?)?)?$`,
);

/** Parses a complete version, or returns null. */
export function parseSemVer(text: string): SemVer | null {
  const m = VERSION.exec(text);
  if (!m) return null;
  return version(m[1]!, m[2]!, m[3]!, m[4]);
}

/** Negative, zero or positive as `a` precedes, equals or follows `b` (build metadata ignored). */
export function compareSemVer(a: SemVer, b: SemVer): number {
  return (
    a.major - b.major ||
    a.minor - b.minor ||
    a.patch - b.patch ||
    comparePrerelease(a.prerelease, b.prerelease)
  );
}

/** Compiles a range such as `>=2.3.0 <3 || ^4.1`, or returns null when it is not one. */
export function parseSemVerRange(text: string): VersionPredicate | null {
  const sets = text.split("||").map((set) => set.trim());
  const compiled: VersionPredicate[][] = [];
  for (const set of sets) {
    if (set === "") return null;
    const predicates: VersionPredicate[] = [];
    for (const part of set.split(/\s+/)) {
      const predicate = comparator(part);
      if (!predicate) return null;
      predicates.push(predicate);
    }
    compiled.push(predicates);
  }
  return (v) => compiled.some((set) => set.every((predicate) => predicate(v)));
}

function comparator(text: string): VersionPredicate | null {
  if (text === "*") return () => true;
  const m = COMPARATOR.exec(text);
  if (!m) return null;
  const [, op = "=", major, minor, patch, pre] = m;
  const exact = patch !== undefined;
  // A partial version stands for all of its versions, prereleases included: 3.1 is [3.1.0-0, 3.2.0-0).
  const low = version(major!, minor ?? "0", patch ?? "0", exact ? pre : "0");
  const high = exact ? low : bump(low, minor === undefined ? "major" : "minor");
  switch (op) {
    case "<":
      return (v) => compareSemVer(v, low) < 0;
    case ">=":
      return (v) => compareSemVer(v, low) >= 0;
    case "<=":
      return exact ? (v) => compareSemVer(v, low) <= 0 : (v) => compareSemVer(v, high) < 0;
    case ">":
      return exact ? (v) => compareSemVer(v, low) > 0 : (v) => compareSemVer(v, high) >= 0;
    case "^":
      return between(low, caretCeiling(low, minor !== undefined, exact));
    case "~":
      return between(low, bump(low, minor === undefined ? "major" : "minor"));
    default:
      return exact ? (v) => compareSemVer(v, low) === 0 : between(low, high);
  }
}

function between(low: SemVer, high: SemVer): VersionPredicate {
  return (v) => compareSemVer(v, low) >= 0 && compareSemVer(v, high) < 0;
}

/** `^` allows changes that do not modify the left-most non-zero part that was given. */
function caretCeiling(v: SemVer, hasMinor: boolean, hasPatch: boolean): SemVer {
  if (v.major > 0 || !hasMinor) return bump(v, "major");
  if (v.minor > 0 || !hasPatch) return bump(v, "minor");
  return { major: 0, minor: 0, patch: v.patch + 1, prerelease: [0] };
}

/** The lowest version of the next major or minor, below all of its prereleases. */
function bump(v: SemVer, part: "major" | "minor"): SemVer {
  return part === "major"
    ? { major: v.major + 1, minor: 0, patch: 0, prerelease: [0] }
    : { major: v.major, minor: v.minor + 1, patch: 0, prerelease: [0] };
}

function version(major: string, minor: string, patch: string, pre: string | undefined): SemVer {
  return {
    major: Number(major),
    minor: Number(minor),
    patch: Number(patch),
    prerelease: pre === undefined ? [] : pre.split(".").map((id) => (/^\d+$/.test(id) ? Number(id) : id)),
  };
}

function comparePrerelease(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  if (a.length === 0 || b.length === 0) return b.length - a.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    if (typeof x === "number") return -1;
    if (typeof y === "number") return 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
