import { Scientist } from "./scientist.ts";
import type { Experiment, ScienceConfig, SyncExperiment } from "./types.ts";

/**
 * The process-wide scientist behind `science()`, so call sites need no plumbing (as with
 * Scientist in Ruby). Code that wants its own publisher or defaults, and tests, build
 * one with `new Scientist(config)` instead.
 */
const defaultScientist = new Scientist();

/** Sets the publisher, flags evaluator, `raised` hook and defaults of `science()`/`scienceSync()`. */
export function configureScience(config: ScienceConfig): void {
  defaultScientist.configure(config);
}

export function science<T>(name: string, define: (e: Experiment<T>) => void): Promise<T> {
  return defaultScientist.science(name, define);
}

export function scienceSync<T>(name: string, define: (e: SyncExperiment<T>) => void): T {
  return defaultScientist.scienceSync(name, define);
}
