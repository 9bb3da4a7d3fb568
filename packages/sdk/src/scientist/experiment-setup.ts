import { ScienceUsageError } from "./errors.ts";
import type {
  Behavior,
  Enabled,
  Experiment,
  ExperimentContext,
  ExperimentDefaults,
  Observation,
  Order,
} from "./types.ts";

export const CONTROL = "control";
const CANDIDATE = "candidate";
const ORDERS: readonly Order[] = ["sequential", "parallel", "background"];

/**
 * What an experiment's setup callback declares, and the record of one run. One instance
 * is reused across calls while experiments are skipped (the disabled path allocates
 * nothing); a run that goes ahead keeps its instance and the scientist makes a new spare.
 * Index 0 of `names`/`behaviors` is the control; only the first `count` entries are in use,
 * as shrinking an array's length makes V8 trim and later regrow its backing store, which
 * cost more than the rest of a skipped call.
 */
export class ExperimentSetup<T = unknown> implements Experiment<T> {
  name = "";
  names: string[] = [CONTROL];
  behaviors: (Behavior<T> | undefined)[] = [undefined];
  count = 1;
  returnedName = CONTROL;
  runOrder: Order;
  timeoutMs: number;
  enabledBy: Enabled;
  raiseMismatches: boolean;
  maxBackground: number;
  runIfPredicate: (() => boolean) | undefined = undefined;
  beforeRunHook: (() => void) | undefined = undefined;
  contextData: ExperimentContext | undefined = undefined;
  equal: ((control: T, candidate: T) => boolean) | undefined = undefined;
  errorsEqual: ((control: unknown, candidate: unknown) => boolean) | undefined = undefined;
  ignorers: ((control: Observation<T>, candidate: Observation<T>) => boolean)[] | undefined = undefined;
  cleaner: ((value: T) => unknown) | undefined = undefined;
  /** Whether a setting was changed since the last `clear`; most calls change none. */
  private touched = false;
  private readonly defaults: ExperimentDefaults;

  constructor(defaults: ExperimentDefaults) {
    this.defaults = defaults;
    this.runOrder = defaults.order;
    this.timeoutMs = defaults.timeoutMs;
    this.enabledBy = defaults.enabled;
    this.raiseMismatches = defaults.raiseOnMismatches;
    this.maxBackground = defaults.maxBackground;
  }

  /**
   * Drops the caller's closures so a spare does not keep a finished request's objects
   * alive, and puts back the defaults when a setting was changed.
   */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.behaviors[i] = undefined;
    this.count = 1;
    if (this.touched) this.restoreDefaults();
  }

  private restoreDefaults(): void {
    const defaults = this.defaults;
    this.touched = false;
    this.runOrder = defaults.order;
    this.timeoutMs = defaults.timeoutMs;
    this.enabledBy = defaults.enabled;
    this.raiseMismatches = defaults.raiseOnMismatches;
    this.maxBackground = defaults.maxBackground;
    this.returnedName = CONTROL;
    this.runIfPredicate = undefined;
    this.beforeRunHook = undefined;
    this.contextData = undefined;
    this.equal = undefined;
    this.errorsEqual = undefined;
    this.ignorers = undefined;
    this.cleaner = undefined;
  }

  /** Index of the behaviour the caller gets. */
  primaryIndex(): number {
    if (this.behaviors[0] === undefined) {
      throw new ScienceUsageError(`experiment "${this.name}" has no control; call e.use(() => ...)`);
    }
    if (this.returnedName === CONTROL) return 0;
    const index = this.indexOfName(this.returnedName);
    if (index < 0) {
      throw new ScienceUsageError(
        `experiment "${this.name}": e.returns("${this.returnedName}") names no behaviour; ` +
          `use "control" or one of: ${this.names.slice(1, this.count).join(", ")}`,
      );
    }
    return index;
  }

  use(behavior: Behavior<T>): this {
    if (this.behaviors[0] !== undefined) {
      throw new ScienceUsageError(`experiment "${this.name}" already has a control; call e.use once`);
    }
    this.behaviors[0] = checkBehavior(this.name, behavior);
    return this;
  }

  try(nameOrBehavior: string | Behavior<T>, behavior?: Behavior<T>): this {
    // The common case, one unnamed candidate, without the checks that several need.
    if (this.count === 1 && typeof nameOrBehavior === "function") {
      this.names[1] = CANDIDATE;
      this.behaviors[1] = nameOrBehavior;
      this.count = 2;
      return this;
    }
    return this.tryNamed(nameOrBehavior, behavior);
  }

  private tryNamed(nameOrBehavior: string | Behavior<T>, behavior?: Behavior<T>): this {
    const named = typeof nameOrBehavior === "string";
    const name = named ? nameOrBehavior : CANDIDATE;
    if (this.indexOfName(name) >= 0) {
      throw new ScienceUsageError(
        named
          ? `experiment "${this.name}" already has a behaviour named "${name}"; names must be unique`
          : `experiment "${this.name}" has several candidates; name them: e.try("name", () => ...)`,
      );
    }
    this.names[this.count] = name;
    this.behaviors[this.count] = checkBehavior(this.name, named ? behavior : nameOrBehavior);
    this.count++;
    return this;
  }

  private indexOfName(name: string): number {
    for (let i = 0; i < this.count; i++) if (this.names[i] === name) return i;
    return -1;
  }

  returns(name: string): this {
    this.touched = true;
    this.returnedName = name;
    return this;
  }

  order(order: Order): this {
    this.touched = true;
    if (!ORDERS.includes(order)) {
      throw new ScienceUsageError(`order: "${order}" is not one of ${ORDERS.join(", ")}`);
    }
    this.runOrder = order;
    return this;
  }

  timeout(ms: number): this {
    this.touched = true;
    if (!(ms > 0) || !Number.isFinite(ms)) {
      throw new ScienceUsageError(`timeout: ${ms} is not a positive number of milliseconds`);
    }
    this.timeoutMs = ms;
    return this;
  }

  enabled(enabled: Enabled): this {
    this.touched = true;
    this.enabledBy = enabled;
    return this;
  }

  runIf(predicate: () => boolean): this {
    this.touched = true;
    this.runIfPredicate = predicate;
    return this;
  }

  beforeRun(setup: () => void): this {
    this.touched = true;
    this.beforeRunHook = setup;
    return this;
  }

  context(context: Record<string, unknown>): this {
    this.touched = true;
    this.contextData = this.contextData === undefined ? context : { ...this.contextData, ...context };
    return this;
  }

  compare(equal: (control: T, candidate: T) => boolean): this {
    this.touched = true;
    this.equal = equal;
    return this;
  }

  compareErrors(equal: (control: unknown, candidate: unknown) => boolean): this {
    this.touched = true;
    this.errorsEqual = equal;
    return this;
  }

  ignore(predicate: (control: Observation<T>, candidate: Observation<T>) => boolean): this {
    this.touched = true;
    if (this.ignorers === undefined) this.ignorers = [predicate];
    else this.ignorers.push(predicate);
    return this;
  }

  clean(clean: (value: T) => unknown): this {
    this.touched = true;
    this.cleaner = clean;
    return this;
  }

  raiseOnMismatches(raise = true): this {
    this.touched = true;
    this.raiseMismatches = raise;
    return this;
  }
}

function checkBehavior<T>(experiment: string, behavior: Behavior<T> | undefined): Behavior<T> {
  if (typeof behavior !== "function") {
    throw new ScienceUsageError(`experiment "${experiment}": a behaviour must be a function`);
  }
  return behavior;
}
