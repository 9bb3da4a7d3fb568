import type { RunEnv } from "./conclude.ts";
import { ScienceUsageError } from "./errors.ts";
import { ExperimentSetup } from "./experiment-setup.ts";
import { NEVER_ABORTED } from "./observe.ts";
import { runAsync } from "./run-async.ts";
import { runSync } from "./run-sync.ts";
import { isSampled } from "./sampling.ts";
import type {
  Experiment,
  ExperimentDefaults,
  ExperimentResult,
  FlagEvaluator,
  Publisher,
  RaisedHook,
  ScienceConfig,
  SyncExperiment,
} from "./types.ts";

export const DEFAULT_EXPERIMENT_SETTINGS: Readonly<ExperimentDefaults> = Object.freeze({
  enabled: true,
  order: "sequential",
  timeoutMs: 1000,
  raiseOnMismatches: false,
  maxBackground: 1000,
});

/**
 * Runs experiments and hands their results to a publisher. The path where an experiment
 * is skipped (disabled, not sampled, no candidate) reads no clock and allocates nothing
 * beyond what the caller's setup callback does: it fills a reused setup and calls the
 * control.
 */
export class Scientist implements RunEnv {
  background = { inFlight: 0, skipped: 0 };
  private publisher: Publisher | undefined;
  private flags: FlagEvaluator | undefined;
  private raised: RaisedHook = warnOnce();
  private defaults: ExperimentDefaults = DEFAULT_EXPERIMENT_SETTINGS;
  private spare: ExperimentSetup | undefined;

  constructor(config: ScienceConfig = {}) {
    this.configure(config);
  }

  /** Replaces what is given; what is left out stays as it was. */
  configure(config: ScienceConfig): void {
    if (config.publisher !== undefined) this.publisher = config.publisher;
    if (config.flags !== undefined) this.flags = config.flags;
    if (config.raised !== undefined) this.raised = config.raised;
    if (config.defaults !== undefined) {
      this.defaults = checkDefaults({ ...this.defaults, ...config.defaults });
      // The spare was made with the old defaults.
      this.spare = undefined;
    }
  }

  /** Runs the experiment; resolves to the control's value or rejects with its exception, unchanged. */
  science<T>(name: string, define: (e: Experiment<T>) => void): Promise<T> {
    let setup: ExperimentSetup<T> | undefined;
    try {
      setup = this.take<T>(name);
      define(setup);
      const primary = setup.primaryIndex();
      if (this.shouldRun(setup)) return runAsync(setup, primary, this);
      const behavior = setup.behaviors[primary]!;
      this.giveBack(setup);
      setup = undefined;
      return Promise.resolve(behavior(NEVER_ABORTED));
    } catch (error) {
      if (setup !== undefined) this.giveBack(setup);
      return Promise.reject(error);
    }
  }

  /** `science` for behaviours that return plain values: no promise anywhere. */
  scienceSync<T>(name: string, define: (e: SyncExperiment<T>) => void): T {
    const setup = this.take<T>(name);
    let primary: number;
    try {
      define(setup);
      primary = setup.primaryIndex();
    } catch (error) {
      this.giveBack(setup);
      throw error;
    }
    // Outside the try: what a run throws is the behaviour's answer, and the run decides when
    // its setup is free (a background run still needs it after this returns).
    if (this.shouldRun(setup)) return this.runSyncThenGiveBack(setup, primary);
    const behavior = setup.behaviors[primary]!;
    this.giveBack(setup);
    return behavior(NEVER_ABORTED) as T;
  }

  /**
   * A sync run is over when it returns, so its setup can serve the next call, except in
   * background order, where the candidates still need it on a later turn.
   */
  private runSyncThenGiveBack<T>(setup: ExperimentSetup<T>, primary: number): T {
    if (setup.runOrder === "background") return runSync(setup, primary, this);
    try {
      return runSync(setup, primary, this);
    } finally {
      this.giveBack(setup);
    }
  }

  /** Background runs in flight, and how many were skipped because `maxBackground` were. */
  stats(): { backgroundInFlight: number; backgroundSkipped: number } {
    return { backgroundInFlight: this.background.inFlight, backgroundSkipped: this.background.skipped };
  }

  publish(result: ExperimentResult): void {
    if (this.publisher === undefined) return;
    try {
      this.publisher.publish(result);
    } catch (error) {
      this.report(error, result.name, "publish");
    }
  }

  report = (error: unknown, experiment: string, operation: string): void => {
    try {
      this.raised(error, { experiment, operation });
    } catch {
      // The hook is the last place an error can go; one that fails there is dropped.
    }
  };

  private take<T>(name: string): ExperimentSetup<T> {
    const setup = (this.spare ?? new ExperimentSetup(this.defaults)) as ExperimentSetup<T>;
    // A nested experiment (one run inside a behaviour or setup) finds no spare and makes its own.
    this.spare = undefined;
    setup.name = name;
    return setup;
  }

  private giveBack<T>(setup: ExperimentSetup<T>): void {
    setup.clear();
    this.spare = setup as ExperimentSetup;
  }

  /**
   * Cheapest checks first. A helper that throws is reported and the experiment skipped.
   * Written without closures: this is the path every skipped call takes.
   */
  private shouldRun<T>(setup: ExperimentSetup<T>): boolean {
    if (setup.count < 2) return false;
    let operation = "enabled";
    try {
      if (!isSampled(setup.enabledBy, setup.name, setup.contextData, this.flags)) return false;
      operation = "runIf";
      if (setup.runIfPredicate !== undefined && setup.runIfPredicate() !== true) return false;
      operation = "beforeRun";
      if (setup.beforeRunHook !== undefined) setup.beforeRunHook();
      return true;
    } catch (error) {
      this.report(error, setup.name, operation);
      return false;
    }
  }
}

function checkDefaults(defaults: ExperimentDefaults): ExperimentDefaults {
  const probe = new ExperimentSetup(DEFAULT_EXPERIMENT_SETTINGS);
  // The setters hold the validation; running the defaults through them keeps one copy of it.
  probe.order(defaults.order).timeout(defaults.timeoutMs);
  if (!(defaults.maxBackground >= 0)) {
    throw new ScienceUsageError(`defaults.maxBackground: ${defaults.maxBackground} must be 0 or more`);
  }
  return Object.freeze(defaults);
}

/** Default `raised`: one process warning per experiment and operation, so a broken helper is seen once. */
function warnOnce(): RaisedHook {
  const seen = new Set<string>();
  return (error, { experiment, operation }) => {
    const key = `${experiment}\u0000${operation}`;
    if (seen.has(key)) return;
    seen.add(key);
    const message = error instanceof Error ? error.message : String(error);
    process.emitWarning(`experiment "${experiment}": ${operation} failed: ${message}`, "ScientistWarning");
  };
}
