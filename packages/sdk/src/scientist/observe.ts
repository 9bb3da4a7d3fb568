import type { Observation } from "./types.ts";

/**
 * `process.cpuUsage()` rather than `process.threadCpuUsage()`, although the latter is a
 * third cheaper: measured on Linux, the per-thread figure moved in scheduler ticks (7 in
 * 10 runs of a 0.1 ms busy loop read 0) while the process figure was right to the microsecond.
 */
const readCpu: () => NodeJS.CpuUsage = process.cpuUsage.bind(process);

/** CPU time of the process, fractional milliseconds. */
export function cpuNowMs(): number {
  const usage = readCpu();
  return (usage.user + usage.system) / 1000;
}

/** Monotonic wall clock, fractional milliseconds. */
export const wallNowMs: () => number = performance.now.bind(performance);

/** Converts a `wallNowMs` reading to epoch milliseconds without reading a second clock. */
export function epochMs(wallMs: number): number {
  return performance.timeOrigin + wallMs;
}

/** A signal that never aborts, for the behaviour the caller waits on and for sync runs. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

export function returned<T>(name: string, value: T, durationMs: number, cpuMs: number): Observation<T> {
  return { name, value, error: undefined, threw: false, timedOut: false, durationMs, cpuMs };
}

export function threw<T>(
  name: string,
  error: unknown,
  durationMs: number,
  cpuMs: number,
  timedOut = false,
): Observation<T> {
  return { name, value: undefined, error, threw: true, timedOut, durationMs, cpuMs };
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Hands the caller the behaviour's answer exactly as it came: its value, or its exception. */
export function answer<T>(observation: Observation<T>): T {
  if (observation.threw) throw observation.error;
  return observation.value as T;
}
