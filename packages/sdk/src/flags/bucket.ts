import { murmur3, murmur3Prefix, murmur3Prefixed } from "./murmur3.ts";

/** Buckets per split: weights have 0.001 % resolution. */
export const BUCKETS = 100_000;
/** Buckets per percentage point of weight. */
const PER_PERCENT = BUCKETS / 100;

/**
 * The string whose UTF-8 bytes are hashed: flag key, salt and bucketing value joined by
 * '.'. With no salt the middle is empty (`checkout..user-42`). Specified in
 * docs/flags-hashing.md; every SDK must build exactly this string.
 */
export function bucketInput(flagKey: string, salt: string, value: string): string {
  return `${flagKey}.${salt}.${value}`;
}

/** The bucket in [0, 100000): murmur3 x86 32-bit, seed 0, of the input, as unsigned, modulo 100000. */
export function bucketOf(input: string): number {
  return murmur3(input, 0) % BUCKETS;
}

/** `bucketOf(bucketInput(flagKey, salt, value))` as a function of value, with the fixed part hashed once. */
export function bucketer(flagKey: string, salt: string): (value: string) => number {
  const prefix = murmur3Prefix(bucketInput(flagKey, salt, ""), 0);
  return (value) => murmur3Prefixed(prefix, value) % BUCKETS;
}

/** A weight in percent as a whole number of buckets; validation refuses finer weights. */
export function weightInBuckets(weight: number): number {
  return Math.round(weight * PER_PERCENT);
}

/** Whether a weight in percent is a whole number of buckets (at most three decimals). */
export function isBucketAligned(weight: number): boolean {
  return Math.abs(weight * PER_PERCENT - weightInBuckets(weight)) < 1e-6;
}

/**
 * Each variant's exclusive upper bucket bound, in the split's order: weights 10, 0, 90 give
 * [10000, 10000, 100000], so buckets 0–9999 get the first variant, the second none, and
 * 10000–99999 the third. Appending a zero-weight variant moves nobody.
 */
export function splitBounds(weights: readonly number[]): number[] {
  let total = 0;
  return weights.map((weight) => {
    total += weightInBuckets(weight);
    return total;
  });
}

/** The index of the variant whose range holds the bucket. */
export function variantIndexFor(bounds: readonly number[], bucket: number): number {
  for (let i = 0; i < bounds.length; i++) if (bucket < bounds[i]!) return i;
  return bounds.length - 1;
}
