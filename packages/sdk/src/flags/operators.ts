import { type CidrPredicate, parseCidr, parseIp } from "./cidr.ts";
import { parseIsoDate } from "./iso-date.ts";
import type { Operator } from "./model.ts";
import {
  compareSemVer,
  parseSemVer,
  parseSemVerRange,
  type SemVer,
  type VersionPredicate,
} from "./semver.ts";

export type ClauseValue = string | number | boolean;

/**
 * A compiled operator applied to one attribute value: true or false when it can judge,
 * undefined when the value is of the wrong kind (a number for `startsWith`, an unparsable
 * version), which the clause treats like a missing attribute.
 */
export type ValueTest = (value: unknown) => boolean | undefined;

export interface OperatorSpec {
  /** `one`: exactly one value (a bound); `many`: any of the values may match. */
  readonly arity: "one" | "many";
  /** Whether `caseInsensitive` means anything for the operator. */
  readonly textual: boolean;
  /** Why a clause value is unusable, or null. */
  check(value: ClauseValue): string | null;
  /** Builds the test; values have passed `check`. */
  compile(values: readonly ClauseValue[], caseInsensitive: boolean): ValueTest;
}

type AttributeOperator = Exclude<Operator, "segmentMatch">;

const anyValue = (): null => null;
const isString = (v: ClauseValue) => (typeof v === "string" ? null : "must be a string");
const isNumber = (v: ClauseValue) =>
  typeof v === "number" && Number.isFinite(v) ? null : "must be a number";
const lower = (v: unknown, ci: boolean) => (ci && typeof v === "string" ? v.toLowerCase() : v);

function membership(values: readonly ClauseValue[], ci: boolean): ValueTest {
  const set = new Set<unknown>(values.map((v) => lower(v, ci)));
  return (v) => {
    const t = typeof v;
    return t === "string" || t === "number" || t === "boolean" ? set.has(lower(v, ci)) : undefined;
  };
}

function text(match: (attribute: string, value: string) => boolean): OperatorSpec {
  return {
    arity: "many",
    textual: true,
    check: isString,
    compile: (values, ci) => {
      const wanted = values.map((v) => lower(v, ci) as string);
      return (v) =>
        typeof v === "string" ? wanted.some((w) => match(lower(v, ci) as string, w)) : undefined;
    },
  };
}

function numeric(compare: (a: number, b: number) => boolean): OperatorSpec {
  return {
    arity: "one",
    textual: false,
    check: isNumber,
    compile:
      ([bound]) =>
      (v) =>
        typeof v === "number" && Number.isFinite(v) ? compare(v, bound as number) : undefined,
  };
}

function dated(compare: (a: number, b: number) => boolean): OperatorSpec {
  return {
    arity: "one",
    textual: false,
    check: (v) => (typeof v === "string" && parseIsoDate(v) !== null ? null : ISO_HINT),
    compile: ([bound]) => {
      const limit = parseIsoDate(bound as string)!;
      return (v) => {
        const at = instant(v);
        return at === null ? undefined : compare(at, limit);
      };
    },
  };
}

const ISO_HINT = "must be an ISO 8601 date (2025-03-01) or date-time with offset (2025-03-01T09:00:00Z)";

function instant(v: unknown): number | null {
  if (typeof v === "string") return parseIsoDate(v);
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  return v instanceof Date && !Number.isNaN(v.getTime()) ? v.getTime() : null;
}

function versioned(arity: "one" | "many", accept: (order: number) => boolean): OperatorSpec {
  return {
    arity,
    textual: false,
    check: (v) => (typeof v === "string" && parseSemVer(v) ? null : "must be a version such as 2.3.0"),
    compile: (values) => {
      const versions = values.map((v) => parseSemVer(v as string)!);
      return (v) => withVersion(v, (got) => versions.some((want) => accept(compareSemVer(got, want))));
    },
  };
}

function withVersion(v: unknown, test: (version: SemVer) => boolean): boolean | undefined {
  const version = typeof v === "string" ? parseSemVer(v) : null;
  return version ? test(version) : undefined;
}

export const OPERATOR_SPECS: Readonly<Record<AttributeOperator, OperatorSpec>> = {
  equals: { arity: "one", textual: true, check: anyValue, compile: membership },
  in: { arity: "many", textual: true, check: anyValue, compile: membership },
  // Compiled as `in`; the clause negates it over the whole attribute (see compileClause).
  notIn: { arity: "many", textual: true, check: anyValue, compile: membership },
  startsWith: text((a, w) => a.startsWith(w)),
  endsWith: text((a, w) => a.endsWith(w)),
  contains: text((a, w) => a.includes(w)),
  matches: {
    arity: "many",
    textual: true,
    check: (v) => (typeof v === "string" ? regexProblem(v) : "must be a regular expression (a string)"),
    compile: (values, ci) => {
      const patterns = values.map((v) => new RegExp(v as string, ci ? "iu" : "u"));
      return (v) => (typeof v === "string" ? patterns.some((p) => p.test(v)) : undefined);
    },
  },
  lt: numeric((a, b) => a < b),
  lte: numeric((a, b) => a <= b),
  gt: numeric((a, b) => a > b),
  gte: numeric((a, b) => a >= b),
  before: dated((a, b) => a < b),
  after: dated((a, b) => a > b),
  semverEq: versioned("many", (order) => order === 0),
  semverLt: versioned("one", (order) => order < 0),
  semverGt: versioned("one", (order) => order > 0),
  semverRange: {
    arity: "many",
    textual: false,
    check: (v) =>
      typeof v === "string" && parseSemVerRange(v) ? null : 'must be a version range such as ">=2.3.0 <3"',
    compile: (values) => {
      const ranges: VersionPredicate[] = values.map((v) => parseSemVerRange(v as string)!);
      return (v) => withVersion(v, (got) => ranges.some((inRange) => inRange(got)));
    },
  },
  cidr: {
    arity: "many",
    textual: false,
    check: (v) => {
      if (typeof v !== "string") return "must be a CIDR block such as 10.0.0.0/8 or 2001:db8::/32";
      const parsed = parseCidr(v);
      return typeof parsed === "string" ? parsed : null;
    },
    compile: (values) => {
      const blocks = values.map((v) => parseCidr(v as string) as CidrPredicate);
      return (v) => {
        const ip = typeof v === "string" ? parseIp(v) : null;
        return ip ? blocks.some((inBlock) => inBlock(ip)) : undefined;
      };
    },
  },
};

function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern, "u");
    return null;
  } catch (error) {
    return `is not a valid regular expression: ${(error as Error).message}`;
  }
}
