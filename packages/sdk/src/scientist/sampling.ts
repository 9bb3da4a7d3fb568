import { BUCKETS, bucketInput, bucketOf } from "../flags/index.ts";
import { ScienceUsageError } from "./errors.ts";
import type { Enabled, ExperimentContext, FlagEvaluator } from "./types.ts";

const FLAG_PREFIX = "flag:";
/** The salt of experiment sampling, so an experiment and a flag of the same name bucket apart. */
const SALT = "scientist";

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
    (typeof key === "string" && key !== "") || Number.isSafeInteger(key)
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
 * The bucket (0-99999) of a targeting key within an experiment: the flags' sticky hash
 * (docs/flags-hashing.md: murmur3 of "name.scientist.key"), so sampling is the same
 * computation in every Gantry SDK, and salted with the experiment's name so that one user
 * is not in every experiment's sample.
 */
export function stickyBucket(experiment: string, key: string): number {
  return bucketOf(bucketInput(experiment, SALT, key));
}
