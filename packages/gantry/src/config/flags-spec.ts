import { z } from "zod";

/** The key rule of the flag evaluator (flags, variants, segments, plans, environments). */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const environmentName = z.string().regex(KEY_PATTERN, {
  error: "an environment name is 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit",
});

/** "production" or { name: production, protected: true }; only production is protected unless said. */
const environmentEntry = z.union([
  environmentName,
  z.object({ name: environmentName, protected: z.boolean().optional() }).strict(),
]);

export interface FlagEnvironmentSpec {
  name: string;
  /** Changing flags here needs role admin; elsewhere deployer. */
  protected: boolean;
}

/**
 * gantry.yaml `flags:`: the environments flags are evaluated in and, optionally, flag,
 * segment and plan definitions that `gantry apply` syncs (the server validates them then,
 * with the flag evaluator's own rules; starting Gantry never applies them).
 */
export const flagsSpec = z
  .object({
    environments: z
      .array(environmentEntry)
      .min(1)
      .default(["development", "staging", "production"])
      .transform((entries): FlagEnvironmentSpec[] =>
        entries.map((e) =>
          typeof e === "string"
            ? { name: e, protected: e === "production" }
            : { name: e.name, protected: e.protected ?? e.name === "production" },
        ),
      )
      .superRefine((environments, ctx) => {
        const seen = new Set<string>();
        for (const [i, e] of environments.entries()) {
          if (seen.has(e.name))
            ctx.addIssue({ code: "custom", path: [i], message: `environment "${e.name}" is listed twice` });
          seen.add(e.name);
        }
      }),
    /** Declarative definitions for `gantry apply` (the same format as flags.yaml). */
    planAttribute: z.string().min(1).optional(),
    flags: z.record(z.string(), z.unknown()).optional(),
    segments: z.record(z.string(), z.unknown()).optional(),
    plans: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type FlagsSpec = z.output<typeof flagsSpec>;
