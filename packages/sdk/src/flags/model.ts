import { z } from "zod";

/**
 * The value under a key of a parsed record, own keys only: a prerequisite or plan naming
 * "constructor" must find nothing, not Object.prototype's.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Keys of flags, variants, segments, plans and environments. */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const key = (what: string) =>
  z.string().regex(KEY_PATTERN, {
    error: `${what} must be 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit`,
  });

export const FLAG_TYPES = ["boolean", "string", "number", "object"] as const;
export type FlagType = (typeof FLAG_TYPES)[number];

export const OPERATORS = [
  "equals",
  "in",
  "notIn",
  "startsWith",
  "endsWith",
  "contains",
  "matches",
  "lt",
  "lte",
  "gt",
  "gte",
  "before",
  "after",
  "semverEq",
  "semverLt",
  "semverGt",
  "semverRange",
  "cidr",
  "segmentMatch",
] as const;
export type Operator = (typeof OPERATORS)[number];

export const ClauseSchema = z.strictObject({
  /** The context attribute; `targetingKey`, `$now` (the injected clock) or any other name. */
  attribute: z.string().min(1).optional(),
  operator: z.enum(OPERATORS, {
    error: (i) => `unknown operator ${JSON.stringify(i.input)}; use one of: ${OPERATORS.join(", ")}`,
  }),
  values: z
    .array(z.union([z.string(), z.number(), z.boolean()]))
    .min(1, { error: "give at least one value" }),
  negate: z.boolean().optional(),
  caseInsensitive: z.boolean().optional(),
});
export type Clause = z.output<typeof ClauseSchema>;

const WeightedVariantSchema = z.strictObject({
  variant: key("a variant name"),
  weight: z.number().min(0).max(100),
});

/** Serves one variant, or splits by sticky percentage (weights in percent, summing to 100). */
const serveShape = {
  variant: key("a variant name").optional(),
  split: z.array(WeightedVariantSchema).min(1).optional(),
  bucketBy: z.string().min(1).optional(),
  salt: z.string().optional(),
};
export const ServeSchema = z.strictObject(serveShape);
export type Serve = z.output<typeof ServeSchema>;

export const RuleSchema = z.strictObject({
  description: z.string().optional(),
  clauses: z.array(ClauseSchema).min(1, { error: "a rule needs at least one clause" }),
  ...serveShape,
});
export type Rule = z.output<typeof RuleSchema>;

export const PrerequisiteSchema = z.strictObject({
  flagKey: key("a flag key"),
  variant: key("a variant name"),
});
export type Prerequisite = z.output<typeof PrerequisiteSchema>;

export const EnvironmentSchema = z.strictObject({
  enabled: z.boolean(),
  /** Served when disabled or a prerequisite is not met; the flag's default variant if absent. */
  offVariant: key("a variant name").optional(),
  prerequisites: z.array(PrerequisiteSchema).default([]),
  rules: z.array(RuleSchema).default([]),
  /** Served when no plan or rule applies; the flag's default variant if absent. */
  fallthrough: ServeSchema.optional(),
});
export type Environment = z.output<typeof EnvironmentSchema>;

export const FlagSchema = z.strictObject({
  description: z.string().default(""),
  type: z.enum(FLAG_TYPES, { error: `type must be one of: ${FLAG_TYPES.join(", ")}` }),
  variants: z.record(key("a variant name"), z.json()),
  defaultVariant: key("a variant name"),
  environments: z.record(key("an environment name"), EnvironmentSchema),
});
export type Flag = z.output<typeof FlagSchema>;

export const SegmentSchema = z.strictObject({
  description: z.string().default(""),
  /** Any one list matching puts the context in the segment; within a list all clauses must match. */
  rules: z.array(z.array(ClauseSchema).min(1)).default([]),
  included: z.array(z.string()).default([]),
  excluded: z.array(z.string()).default([]),
});
export type Segment = z.output<typeof SegmentSchema>;

export const PlanSchema = z.strictObject({
  description: z.string().default(""),
  flags: z.record(key("a flag key"), key("a variant name")),
});
export type Plan = z.output<typeof PlanSchema>;

export const FlagSetSchema = z.strictObject({
  flags: z.record(key("a flag key"), FlagSchema),
  segments: z.record(key("a segment key"), SegmentSchema).default({}),
  plans: z.record(key("a plan key"), PlanSchema).default({}),
  /** The context attribute that names a context's plan. */
  planAttribute: z.string().min(1).default("plan"),
});
/** A flag set that passed `validateFlagSet`, with defaults filled in. */
export type FlagSet = z.output<typeof FlagSetSchema>;
/** What a flag set is written as: the same, with every defaulted field optional. */
export type FlagSetInput = z.input<typeof FlagSetSchema>;
