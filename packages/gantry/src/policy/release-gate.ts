import semver from "semver";
import type { FreezeSpec } from "../config/index.ts";
import type { Switches } from "../services/index.ts";

export interface Refusal {
  kind: "lock" | "freeze" | "dependency" | "approval";
  message: string;
  /** Whether an admin may deploy anyway with --override --reason. */
  overridable: boolean;
}

export interface DeployGateInput {
  service: string;
  version: string;
  lock: Switches["lock"];
  /** Freezes in force now for this service. */
  freezes: { spec: FreezeSpec }[];
  /** What the release needs of other services: {service: semver range}. */
  requires: Record<string, string>;
  /** The live version of every service (null before its first deploy). */
  live: Record<string, string | null>;
}

/** Why a deploy may not start now; empty when it may. Pure: the orchestrator applies it. */
export function deployRefusals(input: DeployGateInput): Refusal[] {
  const refusals: Refusal[] = [];
  if (input.lock) {
    refusals.push({
      kind: "lock",
      overridable: true,
      message: `${input.service} is locked by ${input.lock.actor} since ${input.lock.at}: ${input.lock.reason}; \`gantry unlock ${input.service}\` first`,
    });
  }
  for (const { spec } of input.freezes) {
    refusals.push({
      kind: "freeze",
      overridable: true,
      message: `release freeze "${spec.name}" is in force${spec.reason ? ` (${spec.reason})` : ""}`,
    });
  }
  for (const [dependency, range] of Object.entries(input.requires)) {
    const problem = unmetRequirement(dependency, range, input.live[dependency]);
    if (problem)
      refusals.push({
        kind: "dependency",
        overridable: false,
        message: `${input.service} ${input.version} ${problem}`,
      });
  }
  return refusals;
}

/** Why a live version does not satisfy a requirement, or undefined when it does. */
export function unmetRequirement(
  dependency: string,
  range: string,
  live: string | null | undefined,
): string | undefined {
  if (live === undefined) return `requires ${dependency} ${range}, but there is no service ${dependency}`;
  if (live === null) return `requires ${dependency} ${range}, but nothing of ${dependency} is live`;
  const version = asSemver(live);
  if (!version)
    return `requires ${dependency} ${range}, but the live ${dependency} ${live} is not a semantic version`;
  if (!semver.satisfies(version, range, { includePrerelease: true })) {
    return `requires ${dependency} ${range}, but ${dependency} ${live} is live`;
  }
  return undefined;
}

/** "v2.3.1" and "2.3" read as versions, as teams name them. */
export function asSemver(version: string): string | undefined {
  return semver.valid(semver.clean(version) ?? "") ?? semver.coerce(version)?.version ?? undefined;
}

/** A requirement range that semver understands, or an error message naming it. */
export function invalidRange(range: string): string | undefined {
  return semver.validRange(range)
    ? undefined
    : `"${range}" is not a version range; write e.g. ">=2.3" or "^1.4.0"`;
}

export interface Dependant {
  service: string;
  version: string;
  requires: Record<string, string>;
}

/** The live releases that would break if `service` went to `version` (a rollback's warning). */
export function brokenDependants(service: string, version: string, dependants: Dependant[]): string[] {
  return dependants.flatMap((d) => {
    const range = d.requires[service];
    if (range === undefined || d.service === service) return [];
    const problem = unmetRequirement(service, range, version);
    return problem ? [`${d.service} ${d.version} ${problem.replace(" is live", " would be live")}`] : [];
  });
}
