/**
 * The benchmark's workload, the same for both SDKs: 100 boolean flags, each with one
 * constraint (country in DK, SE, NO) and a sticky 50% rollout by user id behind it, and
 * 1000 users, half of them in one of those countries.
 */

export const FLAG_COUNT = 100;
export const USER_COUNT = 1000;
const COUNTRIES = ["DK", "SE", "NO"];
const OTHER_COUNTRIES = ["DE", "FR", "US"];

export const flagKeys = Array.from({ length: FLAG_COUNT }, (_, i) => `bench-flag-${i}`);

export interface BenchUser {
  id: string;
  country: string;
}

export const users: BenchUser[] = Array.from({ length: USER_COUNT }, (_, i) => ({
  id: `user-${i}-${((i * 2654435761) >>> 0).toString(36)}`,
  country: i % 2 === 0 ? COUNTRIES[i % 3]! : OTHER_COUNTRIES[i % 3]!,
}));

/** Gantry's GET /api/v1/sdk/flags body for environment `production`. */
export function gantryBody(revision = 1): string {
  const flags: Record<string, unknown> = {};
  for (const key of flagKeys) {
    flags[key] = {
      type: "boolean",
      variants: { on: true, off: false },
      defaultVariant: "off",
      environments: {
        production: {
          enabled: true,
          rules: [
            {
              clauses: [{ attribute: "country", operator: "in", values: COUNTRIES }],
              split: [
                { variant: "on", weight: 50 },
                { variant: "off", weight: 50 },
              ],
            },
          ],
          fallthrough: { variant: "off" },
        },
      },
    };
  }
  return JSON.stringify({ environment: "production", revision, flagSet: { flags } });
}

/** Unleash's GET /api/client/features body: the same flags as a constrained flexibleRollout. */
export function unleashBody(): string {
  return JSON.stringify({
    version: 2,
    features: flagKeys.map((name) => ({
      name,
      type: "release",
      enabled: true,
      project: "default",
      stale: false,
      impressionData: false,
      strategies: [
        {
          name: "flexibleRollout",
          constraints: [{ contextName: "country", operator: "IN", values: COUNTRIES, inverted: false }],
          parameters: { rollout: "50", stickiness: "userId", groupId: name },
        },
      ],
      variants: [],
    })),
    segments: [],
  });
}
