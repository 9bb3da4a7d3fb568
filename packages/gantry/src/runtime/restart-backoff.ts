import type { BackoffPolicy } from "./instance-files.ts";

/** 0.5 s, 1 s, 2 s, ... up to 30 s; a run of 30 s forgives earlier crashes. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 30_000 };

/**
 * How long to wait before restarting after the `consecutiveCrashes`-th crash in a row
 * (1-based). Doubling keeps a crash-looping instance from burning CPU and flooding its
 * log, while a one-off crash is retried almost at once.
 */
export function restartDelayMs(consecutiveCrashes: number, policy: BackoffPolicy): number {
  const exponent = Math.max(0, consecutiveCrashes - 1);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(exponent, 30));
}

/** The crash count after a process that ran for `uptimeMs` exited. */
export function crashesAfterExit(previousCrashes: number, uptimeMs: number, policy: BackoffPolicy): number {
  return uptimeMs >= policy.resetAfterMs ? 1 : previousCrashes + 1;
}
