import { httpProbe } from "../analysis/index.ts";
import type { SmokeCheckSpec } from "../config/index.ts";

/** Runs each smoke check against each instance directly (not through the router). Returns the failures. */
export async function runSmokeChecks(
  instances: { id: string; port: number }[],
  checks: SmokeCheckSpec[],
): Promise<string[]> {
  const failures: string[] = [];
  for (const instance of instances) {
    for (const check of checks) {
      const problem = await httpProbe(
        `http://127.0.0.1:${instance.port}${check.path}`,
        check,
        AbortSignal.timeout(check.timeout),
      ).catch((error: Error) => error.message);
      if (problem) failures.push(`${instance.id} GET ${check.path}: ${problem}`);
    }
  }
  return failures;
}
