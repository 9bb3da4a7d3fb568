import { conclude, enterBackground, type RunEnv, shuffledOrder } from "./conclude.ts";
import { ScienceUsageError } from "./errors.ts";
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

/**
 * Runs an enabled `scienceSync` experiment. Behaviours run one after another in random
 * order; `parallel` cannot exist without promises and runs the same way. In `background`
 * order the others run on a later turn of the event loop, after the caller has its answer.
 */
export function runSync<T>(setup: ExperimentSetup<T>, primary: number, env: RunEnv): T {
  const observations = new Array<Observation<T>>(setup.count);
  const start = wallNowMs();
  const startedAt = epochMs(start);
  if (setup.runOrder === "background") {
    runInOrder(setup, primary === 0 ? CONTROL_ONLY : [primary], observations, env, primary, start);
    if (enterBackground(env, setup.maxBackground)) {
      setImmediate(finishInBackground, setup, observations, primary, startedAt, env);
    }
    return answer(observations[primary]!);
  }
  runInOrder(setup, shuffledOrder(setup.count), observations, env, primary, start);
  const mismatch = conclude(setup, observations, primary, startedAt, env, true);
  if (mismatch) throw mismatch;
  return answer(observations[primary]!);
}

const CONTROL_ONLY: readonly number[] = Object.freeze([0]);

function finishInBackground<T>(
  setup: ExperimentSetup<T>,
  observations: Observation<T>[],
  primary: number,
  startedAt: number,
  env: RunEnv,
): void {
  try {
    const others = shuffledOrder(setup.count).filter((index) => index !== primary);
    runInOrder(setup, others, observations, env, primary, wallNowMs());
    conclude(setup, observations, primary, startedAt, env, false);
  } catch (error) {
    env.report(error, setup.name, "background");
  } finally {
    env.background.inFlight--;
  }
}

/**
 * Runs the behaviours at the indices in `order`, reading each clock once between two
 * behaviours: the end of one is the start of the next, which halves the cost of timing.
 */
function runInOrder<T>(
  setup: ExperimentSetup<T>,
  order: readonly number[],
  observations: Observation<T>[],
  env: RunEnv,
  primary: number,
  start: number,
): void {
  let wall = start;
  let cpu = cpuNowMs();
  for (const index of order) {
    const name = setup.names[index]!;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    try {
      value = setup.behaviors[index]!(NEVER_ABORTED) as T;
    } catch (thrown) {
      error = thrown;
      failed = true;
    }
    const wallEnd = wallNowMs();
    const cpuEnd = cpuNowMs();
    if (!failed && isThenable(value)) warnPromise(setup, name, value, index === primary, env);
    observations[index] = failed
      ? threw<T>(name, error, wallEnd - wall, cpuEnd - cpu)
      : returned<T>(name, value as T, wallEnd - wall, cpuEnd - cpu);
    wall = wallEnd;
    cpu = cpuEnd;
  }
}

/** A promise in scienceSync is compared as an object; say so, and keep a candidate's rejection quiet. */
function warnPromise<T>(
  setup: ExperimentSetup<T>,
  name: string,
  value: PromiseLike<unknown>,
  isPrimary: boolean,
  env: RunEnv,
): void {
  if (!isPrimary) value.then(undefined, () => {});
  env.report(
    new ScienceUsageError(`behaviour "${name}" returned a promise; use science() for async behaviours`),
    setup.name,
    "scienceSync",
  );
}
