import { conclude, enterBackground, type RunEnv, shuffledOrder } from "./conclude.ts";
import { CandidateTimeoutError } from "./errors.ts";
import type { ExperimentSetup } from "./experiment-setup.ts";
import {
  answer,
  cpuNowMs,
  epochMs,
  isThenable,
  NEVER_ABORTED,
  returned,
  threw,
  wallNowMs,
} from "./observe.ts";
import type { Observation } from "./types.ts";

type Observed<T> = Observation<T> | Promise<Observation<T>>;

/** Runs an enabled `science` experiment in the order it asked for. */
export async function runAsync<T>(setup: ExperimentSetup<T>, primary: number, env: RunEnv): Promise<T> {
  const observations = new Array<Observation<T>>(setup.count);
  const startedAt = epochMs(wallNowMs());
  if (setup.runOrder === "background") {
    observations[primary] = await observe(setup, primary, primary);
    if (enterBackground(env, setup.maxBackground)) {
      // setImmediate, not a microtask: the caller's continuation runs before any candidate code.
      setImmediate(runOthersInBackground, setup, observations, primary, startedAt, env);
    }
    return answer(observations[primary]!);
  }
  if (setup.runOrder === "parallel") {
    const all = await Promise.all(
      Array.from({ length: setup.count }, (_, index) => observe(setup, index, primary)),
    );
    for (let i = 0; i < all.length; i++) observations[i] = all[i]!;
  } else {
    for (const index of shuffledOrder(setup.count)) {
      const observed = observe(setup, index, primary);
      observations[index] = observed instanceof Promise ? await observed : observed;
    }
  }
  const mismatch = conclude(setup, observations, primary, startedAt, env, true);
  if (mismatch) throw mismatch;
  return answer(observations[primary]!);
}

function runOthersInBackground<T>(
  setup: ExperimentSetup<T>,
  observations: Observation<T>[],
  primary: number,
  startedAt: number,
  env: RunEnv,
): void {
  const others = Array.from({ length: setup.count }, (_, index) => index).filter(
    (index) => index !== primary,
  );
  Promise.all(others.map((index) => observe(setup, index, primary)))
    .then((done) => {
      for (let i = 0; i < others.length; i++) observations[others[i]!] = done[i]!;
      conclude(setup, observations, primary, startedAt, env, false);
    })
    .catch((error: unknown) => env.report(error, setup.name, "background"))
    .finally(() => env.background.inFlight--);
}

/**
 * Runs one behaviour and observes it. Sync answers are observed without a promise. Only
 * candidates that declare a parameter get an AbortController: creating one costs about
 * as much as the rest of a run. The behaviour the caller waits on gets no timeout.
 */
function observe<T>(setup: ExperimentSetup<T>, index: number, primary: number): Observed<T> {
  const name = setup.names[index]!;
  const behavior = setup.behaviors[index]!;
  const abort = index !== primary && behavior.length > 0 ? new AbortController() : undefined;
  const wall = wallNowMs();
  const cpu = cpuNowMs();
  let value: T | PromiseLike<T>;
  try {
    value = behavior(abort === undefined ? NEVER_ABORTED : abort.signal);
  } catch (error) {
    return threw(name, error, wallNowMs() - wall, cpuNowMs() - cpu);
  }
  if (!isThenable(value)) return returned(name, value, wallNowMs() - wall, cpuNowMs() - cpu);
  if (index === primary) return settle(name, value, wall, cpu);
  return settleWithin(name, value, wall, cpu, setup.timeoutMs, abort);
}

async function settle<T>(name: string, promise: PromiseLike<T>, wall: number, cpu: number) {
  try {
    const value = await promise;
    return returned(name, value, wallNowMs() - wall, cpuNowMs() - cpu);
  } catch (error) {
    return threw<T>(name, error, wallNowMs() - wall, cpuNowMs() - cpu);
  }
}

/** Settles a candidate, or records a timeout and aborts its signal; a late answer is dropped. */
function settleWithin<T>(
  name: string,
  promise: PromiseLike<T>,
  wall: number,
  cpu: number,
  timeoutMs: number,
  abort: AbortController | undefined,
): Promise<Observation<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      const error = new CandidateTimeoutError(name, timeoutMs);
      resolve(threw<T>(name, error, wallNowMs() - wall, cpuNowMs() - cpu, true));
      abort?.abort(error);
    }, timeoutMs);
    // An experiment must never be what keeps the process alive.
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(returned(name, value, wallNowMs() - wall, cpuNowMs() - cpu));
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve(threw<T>(name, error, wallNowMs() - wall, cpuNowMs() - cpu));
      },
    );
  });
}
