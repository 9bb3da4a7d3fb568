/**
 * The wait before reconnect attempt `attempt` (0 for the first after a loss): exponential
 * from `baseMs`, capped at `maxMs`, with "equal jitter" — between half and all of it — so a
 * fleet of applications that lost Gantry together do not come back in lockstep, yet none
 * retries sooner than half the schedule. `random` is injected for tests.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
