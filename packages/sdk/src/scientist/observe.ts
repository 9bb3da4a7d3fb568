import type { Observation } from "./types.ts";

/**
 * Thread CPU time rather than `process.cpuUsage()`: it is the same clock without the
 * libuv pool's and GC helpers' threads, which would otherwise be billed to whichever
 * behaviour happened to be running, and it costs about a third less per reading.
 */
const readCpu: () => NodeJS.CpuUsage =
  typeof process.threadCpuUsage === "function"
    ? process.threadCpuUsage.bind(process)
    : process.cpuUsage.bind(process);

/** CPU time of this thread, fractional milliseconds. */
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
