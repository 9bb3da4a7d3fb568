import { ScienceUsageError } from "./errors.ts";
import type { Enabled, ExperimentContext, FlagEvaluator } from "./types.ts";

const FLAG_PREFIX = "flag:";
const BUCKETS = 10_000;

/**
 * Whether this call runs the experiment. A percentage is sticky when the context has a
 * `targetingKey` (the same user always gets the same answer, so a user's requests are
 * compared consistently), random otherwise. A `flag:KEY` asks the flags evaluator, so
 * sampling follows the flag's own targeting and sticky hashing. Throws on misuse; the
 * caller reports that to `raised` and runs the control alone.
 */
export function isSampled(
  enabled: Enabled,
  name: string,
  context: ExperimentContext | undefined,
  flags: FlagEvaluator | undefined,
): boolean {
  if (enabled === true) return true;
  if (enabled === false) return false;
  if (typeof enabled === "number") return percentageSampled(enabled, name, context);
  if (typeof enabled === "function") return enabled(context ?? EMPTY) === true;
  return flagSampled(enabled, context, flags);
}

/** The share of calls that run, when the setting says it up front. */
export function sampledShare(enabled: Enabled): number | null {
  if (enabled === true) return 1;
  if (enabled === false) return 0;
  if (typeof enabled === "number") return Math.min(Math.max(enabled, 0), 100) / 100;
  return null;
}

const EMPTY: ExperimentContext = Object.freeze({});

function percentageSampled(percent: number, name: string, context: ExperimentContext | undefined): boolean {
  if (percent >= 100) return true;
  if (!(percent > 0)) return false;
  const key = context?.["targetingKey"];
  const bucket =
    typeof key === "string" || typeof key === "number"
      ? stickyBucket(name, String(key))
      : Math.floor(Math.random() * BUCKETS);
  return bucket < percent * (BUCKETS / 100);
}

function flagSampled(
  enabled: string,
  context: ExperimentContext | undefined,
  flags: FlagEvaluator | undefined,
): boolean {
  if (!enabled.startsWith(FLAG_PREFIX)) {
    throw new ScienceUsageError(
      `enabled: "${enabled}" is not a setting; use true/false, a percentage, a function or "flag:KEY"`,
    );
  }
  if (!flags) {
    throw new ScienceUsageError(
      `enabled: "${enabled}" needs a flags evaluator; pass one as configureScience({ flags })`,
    );
  }
  return flags.isEnabled(enabled.slice(FLAG_PREFIX.length), context ?? EMPTY);
}

/**
 * Bucket 0..9999 of a key within an experiment: FNV-1a over the experiment name, a
 * separator and the key, then murmur3's finaliser so that similar keys spread evenly.
 * Salting with the name keeps one user from being in every experiment's sample.
 */
export function stickyBucket(experiment: string, key: string): number {
  let h = fnv1a(0x811c9dc5, experiment);
  h = Math.imul(h ^ 0x3a, 0x01000193);
  h = fnv1a(h, key);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % BUCKETS;
}

function fnv1a(seed: number, text: string): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}
