import type { SmokeCheckSpec } from "../config/index.ts";

/** Runs each smoke check against each instance directly (not through the router). Returns the failures. */
export async function runSmokeChecks(
  instances: { id: string; port: number }[],
  checks: SmokeCheckSpec[],
): Promise<string[]> {
  const failures: string[] = [];
  for (const instance of instances) {
    for (const check of checks) {
      const problem = await runOne(instance.port, check);
      if (problem) failures.push(`${instance.id} GET ${check.path}: ${problem}`);
    }
  }
  return failures;
}

async function runOne(port: number, check: SmokeCheckSpec): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${check.path}`, {
      signal: AbortSignal.timeout(check.timeout),
    });
    const body = await response.text();
    if (response.status !== check.expectStatus)
      return `status ${response.status}, expected ${check.expectStatus}`;
    if (check.expectBody !== undefined && !body.includes(check.expectBody)) {
      return `body does not contain ${JSON.stringify(check.expectBody)}`;
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
