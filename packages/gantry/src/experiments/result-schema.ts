import { z } from "zod";

/** One behaviour's observation, as @gantry/sdk's HTTP publisher sends it (docs/scientist.md). */
export const wireObservation = z.object({
  name: z.string().min(1).max(200),
  value: z.unknown().optional(),
  error: z.object({ name: z.string().max(200), message: z.string().max(4000) }).optional(),
  timedOut: z.boolean(),
  durationMs: z.number().min(0),
  cpuMs: z.number().min(0),
});

export const wireResult = z.object({
  /** The same on every retry of a result, so the server records it once. Optional for other publishers. */
  id: z.string().min(1).max(100).optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/, "an experiment name is letters, digits and . _ : / -"),
  context: z.record(z.string(), z.unknown()).default({}),
  control: wireObservation,
  candidates: z.array(wireObservation).max(20),
  matched: z.array(z.string()),
  ignored: z.array(z.string()),
  mismatched: z.array(z.string()),
  returned: z.string(),
  at: z.iso.datetime({ offset: true }),
  sampled: z.number().min(0).max(100).nullable(),
});

export const resultBatch = z.object({ results: z.array(wireResult).min(1).max(1000) }).strict();

export type WireObservation = z.output<typeof wireObservation>;
export type WireResult = z.output<typeof wireResult>;
