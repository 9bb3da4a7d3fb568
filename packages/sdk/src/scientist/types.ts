/**
 * Public types of the Scientist library. The in-memory result handed to publishers keeps
 * raw values and error objects; `toWireResult` turns it into the JSON the server stores.
 */

/** A behaviour of an experiment. Candidates that declare the parameter get an AbortSignal. */
export type Behavior<T> = (signal: AbortSignal) => T | PromiseLike<T>;
export type SyncBehavior<T> = () => T;

/**
 * How behaviours run. `sequential`: one after another in random order (as Scientist does,
 * so order-dependent effects show up as mismatches). `parallel`: all at once, the caller
 * waits for all. `background`: the returned behaviour first; the others start after the
 * caller has its answer.
 */
export type Order = "sequential" | "parallel" | "background";

/** Whether an experiment runs: a function, a percentage (0-100), `"flag:KEY"`, or a boolean. */
export type Enabled = boolean | number | `flag:${string}` | ((context: ExperimentContext) => boolean);

export type ExperimentContext = Readonly<Record<string, unknown>>;

/** What one behaviour did during one run. */
export interface Observation<T = unknown> {
  readonly name: string;
  /** The value it returned (or its promise resolved to); undefined when it threw. */
  readonly value: T | undefined;
  /** What it threw (or its promise rejected with); only meaningful when `threw`. */
  readonly error: unknown;
  readonly threw: boolean;
  /** True when an async candidate did not settle within the experiment's timeout. */
  readonly timedOut: boolean;
  /** Wall time, monotonic clock, fractional milliseconds. */
  readonly durationMs: number;
  /** CPU time (`process.cpuUsage`) while the behaviour ran, fractional milliseconds. */
  readonly cpuMs: number;
}

/** One run of an experiment, as handed to publishers. */
export interface ExperimentResult<T = unknown> {
  readonly name: string;
  readonly context: ExperimentContext;
  readonly control: Observation<T>;
  readonly candidates: readonly Observation<T>[];
  /** Candidate names, each in exactly one of the three lists. */
  readonly matched: readonly string[];
  readonly ignored: readonly string[];
  readonly mismatched: readonly string[];
  /** Name of the behaviour whose value the caller got. */
  readonly returned: string;
  /** Wall-clock time the run started, epoch milliseconds. */
  readonly startedAt: number;
  /** Configured share of calls that run the experiment (0-1), null when not known up front. */
  readonly sampled: number | null;
  /** The experiment's `clean`, applied when the result is serialised. */
  readonly clean: ((value: T) => unknown) | undefined;
}

/** Receives every result. Must not block: it runs on the caller's path. */
export interface Publisher {
  publish(result: ExperimentResult): void;
}

/** The flags SDK's evaluator, or anything with the same shape. */
export interface FlagEvaluator {
  isEnabled(flagKey: string, context: ExperimentContext): boolean;
}

/** Where errors inside helpers (compare, ignore, clean, publishers...) go instead of the caller. */
export type RaisedHook = (error: unknown, info: { experiment: string; operation: string }) => void;

/** Settings every experiment starts from; each can be changed in the experiment's setup. */
export interface ExperimentDefaults {
  enabled: Enabled;
  order: Order;
  /** Milliseconds an async candidate may take before it is aborted and recorded as timed out. */
  timeoutMs: number;
  raiseOnMismatches: boolean;
  /** Most background runs in flight; past it, candidates are skipped rather than piling up. */
  maxBackground: number;
}

export interface ScienceConfig {
  publisher?: Publisher;
  flags?: FlagEvaluator;
  raised?: RaisedHook;
  defaults?: Partial<ExperimentDefaults>;
}

/** Settings shared by `science` and `scienceSync` experiments. */
export interface ExperimentSettings<T> {
  /** Which behaviour's value (or exception) the caller gets; default `"control"`. */
  returns(name: string): this;
  order(order: Order): this;
  timeout(ms: number): this;
  enabled(enabled: Enabled): this;
  runIf(predicate: () => boolean): this;
  /** Expensive setup the behaviours need; runs only when the experiment runs. */
  beforeRun(setup: () => void): this;
  context(context: Record<string, unknown>): this;
  compare(equal: (control: T, candidate: T) => boolean): this;
  compareErrors(equal: (control: unknown, candidate: unknown) => boolean): this;
  /** Several may be given; a mismatch any of them accepts is counted as ignored. */
  ignore(predicate: (control: Observation<T>, candidate: Observation<T>) => boolean): this;
  /** What gets published in place of a value. */
  clean(clean: (value: T) => unknown): this;
  raiseOnMismatches(raise?: boolean): this;
}

/** The `e` of `science(name, (e) => ...)`. */
export interface Experiment<T> extends ExperimentSettings<T> {
  /** The control: the existing behaviour. */
  use(behavior: Behavior<T>): this;
  /** A candidate; name it when there are several. */
  try(behavior: Behavior<T>): this;
  try(name: string, behavior: Behavior<T>): this;
}

/** The `e` of `scienceSync`: behaviours return plain values; order `parallel` runs as `sequential`. */
export interface SyncExperiment<T> extends ExperimentSettings<T> {
  use(behavior: SyncBehavior<T>): this;
  try(behavior: SyncBehavior<T>): this;
  try(name: string, behavior: SyncBehavior<T>): this;
}
