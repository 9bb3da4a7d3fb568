import type {
  AnalysisSpec,
  CanaryStep,
  Phase,
  ScheduleStep,
  SmokeCheckSpec,
  StrategySpec,
} from "../config/index.ts";
import type { CohortGroup, RouteCohorts } from "../router/cohorts.ts";
import type { ServiceMode } from "../router/policy.ts";
import type { Traffic, TrafficShare } from "../services/index.ts";

export type { Traffic, TrafficShare };

/**
 * What a service should look like after a step. Converging to a target is idempotent, so a
 * control plane that restarts mid-step simply converges to the same target again.
 */
export interface Target {
  /** Instances wanted per version; versions not listed get none. */
  instances: Record<string, number>;
  /** Traffic by version, "by-instances" (every ready instance of every listed version alike), or by cohorts of users. */
  traffic: Traffic;
  mode: ServiceMode;
}

export type Step =
  | { kind: "converge"; description: string; target: Target }
  | { kind: "smoke"; description: string; version: string; checks: SmokeCheckSpec[] }
  | { kind: "keep-idle"; description: string; version: string; forMs: number }
  | {
      kind: "analysis";
      description: string;
      baseline: string;
      candidate: string;
      forMs: number;
      settings: AnalysisSpec;
    }
  /** Waits `forMs`, or until `gantry promote` when forMs is null. */
  | { kind: "pause"; description: string; forMs: number | null }
  /** Compares the shadow candidate's answers with stable's for `forMs` (the router mirrors). */
  | {
      kind: "shadow";
      description: string;
      candidate: string;
      forMs: number;
      maxMismatchRate: number;
      maxLatencyIncreaseMs: number | null;
      minCompared: number;
    };

export interface PlanInput {
  /** The version live now; null on a service's first deploy. */
  from: string | null;
  to: string;
  count: number;
  strategy: StrategySpec;
}

export function planRollout(input: PlanInput): Step[] {
  switch (input.strategy.type) {
    case "recreate":
      return planRecreate(input);
    case "rolling":
      return withMode(planRolling(input, input.strategy.maxSurge, input.strategy.maxUnavailable), input);
    case "blue-green":
      return withMode(planBlueGreen(input, input.strategy.smoke, input.strategy.idleFor), input);
    case "canary":
      return input.strategy.schedule
        ? planInstanceCanary(input, input.strategy.schedule, input.strategy.verify, input.strategy.analysis)
        : planCanary(input, input.strategy.steps ?? [], input.strategy.analysis);
    case "phased":
      return planPhased(input, input.strategy);
    case "shedding":
      return planShedding(input, input.strategy);
    case "shadow":
      return planShadow(input, input.strategy);
  }
}

/**
 * A rollout that runs in read-only or maintenance mode (e.g. while a migration runs):
 * the mode comes on before the first change and goes off with the last switch.
 */
function withMode(steps: Step[], { from, count, strategy }: PlanInput): Step[] {
  const during =
    strategy.type === "recreate"
      ? "maintenance"
      : strategy.type === "rolling" || strategy.type === "blue-green"
        ? strategy.during
        : "normal";
  if (during === "normal") return steps;
  const last = steps.findLastIndex((s) => s.kind === "converge");
  const moded = steps.map((s, i) =>
    s.kind === "converge" && i !== last ? { ...s, target: { ...s.target, mode: during } } : s,
  );
  if (from === null) return moded;
  const lead = converge(`switch to ${during} mode`, {
    instances: { [from]: count },
    traffic: all(from),
    mode: during,
  });
  return [lead, ...moded];
}

const all = (version: string): TrafficShare[] => [{ version, weight: 100 }];

function converge(description: string, target: Target): Step {
  return { kind: "converge", description, target };
}

/** Stop-and-go: the maintenance page while the old version stops and the new one starts. */
export function planRecreate({ from, to, count }: PlanInput): Step[] {
  const finish = converge(`start ${count} × ${to} and send it all traffic`, {
    instances: { [to]: count },
    traffic: all(to),
    mode: "normal",
  });
  if (from === null) return [finish];
  return [
    converge("show the maintenance page", {
      instances: { [from]: count },
      traffic: all(from),
      mode: "maintenance",
    }),
    converge(`stop ${from}`, { instances: {}, traffic: [], mode: "maintenance" }),
    finish,
  ];
}

/**
 * Replaces instances in batches: at most count + maxSurge instances exist and at least
 * count - maxUnavailable are ready at any time; a new instance is healthy before an old
 * one leaves rotation, because each converge starts (and waits for) before it stops.
 */
export function planRolling(
  { from, to, count }: PlanInput,
  maxSurge: number,
  maxUnavailable: number,
): Step[] {
  if (from === null || from === to) {
    return [
      converge(`start ${count} × ${to}`, { instances: { [to]: count }, traffic: all(to), mode: "normal" }),
    ];
  }
  const steps: Step[] = [];
  let old = count;
  let fresh = 0;
  const at = (o: number, n: number, description: string) =>
    steps.push(
      converge(description, {
        instances: o > 0 ? { [from]: o, [to]: n } : { [to]: n },
        traffic: o > 0 ? "by-instances" : all(to),
        mode: "normal",
      }),
    );
  while (old > 0 || fresh < count) {
    const up = Math.min(count, count + maxSurge - old);
    if (up > fresh) {
      fresh = up;
      at(old, fresh, `start ${to} (${fresh}/${count})`);
    }
    const down = Math.min(old, Math.max(0, count - maxUnavailable - fresh));
    if (down < old) {
      old = down;
      at(old, fresh, `stop ${from} (${count - old}/${count} replaced)`);
    }
    if (up <= fresh && down >= old && steps.length > 4 * count + 4) break;
  }
  return steps;
}

/**
 * The new colour starts beside the live one, passes its smoke checks without traffic, then
 * takes all traffic in one switch; the old colour stays up, idle, so a rollback is a switch.
 */
export function planBlueGreen(
  { from, to, count }: PlanInput,
  smoke: SmokeCheckSpec[],
  idleFor: number,
): Step[] {
  const both = (traffic: TrafficShare[]): Target => ({
    instances: from === null ? { [to]: count } : { [from]: count, [to]: count },
    traffic,
    mode: "normal",
  });
  const steps: Step[] = [
    converge(`start ${count} × ${to} beside the live colour`, both(from ? all(from) : [])),
  ];
  if (smoke.length > 0)
    steps.push({ kind: "smoke", description: `smoke-check ${to}`, version: to, checks: smoke });
  steps.push(converge(`switch all traffic to ${to}`, both(all(to))));
  if (from !== null && from !== to) {
    steps.push({
      kind: "keep-idle",
      description: `keep ${from} idle for rollback`,
      version: from,
      forMs: idleFor,
    });
  }
  return steps;
}

/**
 * The canary starts beside the stable version with as many instances, then takes the
 * traffic shares its steps set, judged against stable by each analysis, and finally all
 * traffic; stable stops last. A failed analysis aborts the rollout, which returns all
 * traffic to stable in one switch (its instances never stopped).
 */
export function planCanary(
  { from, to, count }: PlanInput,
  canarySteps: CanaryStep[],
  analysis: AnalysisSpec,
): Step[] {
  if (from === null || from === to) {
    return [
      converge(`start ${count} × ${to}`, { instances: { [to]: count }, traffic: all(to), mode: "normal" }),
    ];
  }
  const both = (toWeight: number): Target => ({
    instances: { [from]: count, [to]: count },
    traffic:
      toWeight <= 0
        ? all(from)
        : toWeight >= 100
          ? all(to)
          : [
              { version: from, weight: 100 - toWeight },
              { version: to, weight: toWeight },
            ],
    mode: "normal",
  });
  const steps: Step[] = [converge(`start ${count} × ${to} beside ${from}, without traffic`, both(0))];
  let weight = 0;
  for (const step of canarySteps) {
    if ("setWeight" in step) {
      weight = step.setWeight;
      steps.push(converge(`send ${weight}% of traffic to ${to}`, both(weight)));
    } else if ("analysis" in step) {
      steps.push({
        kind: "analysis",
        description: `judge ${to} at ${weight}% against ${from} for ${seconds(step.analysis)}`,
        baseline: from,
        candidate: to,
        forMs: step.analysis,
        settings: analysis,
      });
    } else {
      steps.push({
        kind: "pause",
        description:
          step.pause === "promote" ? `wait for \`gantry promote\`` : `pause for ${seconds(step.pause)}`,
        forMs: step.pause === "promote" ? null : step.pause,
      });
    }
  }
  steps.push(converge(`send all traffic to ${to}`, both(100)));
  steps.push(converge(`stop ${from}`, { instances: { [to]: count }, traffic: all(to), mode: "normal" }));
  return steps;
}

/**
 * Shadow traffic: the candidate starts beside stable with as many instances and no users;
 * the router copies a share of requests to it and compares the answers for a while; then
 * the candidate takes all traffic in one switch (or, for a dark launch, stops again).
 */
export function planShadow(
  { from, to, count }: PlanInput,
  strategy: Extract<StrategySpec, { type: "shadow" }>,
): Step[] {
  if (from === null || from === to) {
    return [
      converge(`start ${count} × ${to}`, { instances: { [to]: count }, traffic: all(to), mode: "normal" }),
    ];
  }
  const instances = { [from]: count, [to]: count };
  const shadow = {
    version: to,
    share: strategy.share,
    methods: strategy.methods,
    ignore: strategy.ignore,
    maxConcurrent: strategy.maxConcurrent,
    maxBodyBytes: strategy.maxBodyBytes,
    timeoutMs: strategy.timeout,
  };
  const steps: Step[] = [
    converge(`start ${count} × ${to} beside ${from}, without users`, {
      instances,
      traffic: all(from),
      mode: "normal",
    }),
    converge(`copy ${strategy.share}% of ${strategy.methods.join(", ")} requests to ${to}`, {
      instances,
      traffic: { primary: from, shadow },
      mode: "normal",
    }),
    {
      kind: "shadow",
      description: `compare ${to}'s answers with ${from}'s for ${seconds(strategy.for)}`,
      candidate: to,
      forMs: strategy.for,
      maxMismatchRate: strategy.maxMismatchRate,
      maxLatencyIncreaseMs: strategy.maxLatencyIncrease ?? null,
      minCompared: strategy.minCompared,
    },
  ];
  if (strategy.after === "stop") {
    steps.push(
      converge(`stop ${to}: a dark launch only`, {
        instances: { [from]: count },
        traffic: all(from),
        mode: "normal",
      }),
    );
    return steps;
  }
  steps.push(converge(`switch all traffic to ${to}`, { instances, traffic: all(to), mode: "normal" }));
  steps.push(converge(`stop ${from}`, { instances: { [to]: count }, traffic: all(to), mode: "normal" }));
  return steps;
}

/**
 * Proportional shedding: the new cluster (as many instances as the old) takes each share of
 * traffic in turn, held for `every` and judged against the old cluster meanwhile (unless
 * `judge: false`), then all of it; the old cluster stops last. It is a canary whose steps
 * are the shares, so an abort is one switch back.
 */
export function planShedding(
  input: PlanInput,
  strategy: Extract<StrategySpec, { type: "shedding" }>,
): Step[] {
  const steps: CanaryStep[] = strategy.shares.flatMap((share) => [
    { setWeight: share },
    strategy.judge ? { analysis: strategy.every } : { pause: strategy.every },
  ]);
  return planCanary(input, steps, strategy.analysis).map((step) =>
    step.kind === "converge" && step.description.startsWith("send ")
      ? {
          ...step,
          description: step.description.replace(
            /^send (.*) of traffic to (.*)$/,
            "shift $1 of traffic to $2's cluster",
          ),
        }
      : step,
  );
}

/**
 * A canary by instance schedule, as fleets are upgraded: instances of the canary replace
 * stable ones a group at a time (a new one healthy before an old one leaves), traffic
 * spread over every ready instance, so the canary's share is its share of the fleet; each
 * group is verified (checks against every upgraded instance) and, during its wait, judged
 * against stable; then the next group.
 */
/** Waits of an instance schedule shorter than this are not judged. */
export const minJudgedWaitMs = 5000;

export function planInstanceCanary(
  { from, to, count }: PlanInput,
  schedule: ScheduleStep[],
  verify: SmokeCheckSpec[],
  analysis: AnalysisSpec,
): Step[] {
  if (from === null || from === to) {
    return [
      converge(`start ${count} × ${to}`, { instances: { [to]: count }, traffic: all(to), mode: "normal" }),
    ];
  }
  const steps: Step[] = [];
  let upgraded = 0;
  const upgradeTo = (total: number) => {
    const target = Math.min(count, total);
    if (target <= upgraded) return false;
    const fleet = (o: number, n: number): Target => ({
      instances: o > 0 ? { [from]: o, [to]: n } : { [to]: n },
      traffic: o > 0 ? "by-instances" : all(to),
      mode: "normal",
    });
    steps.push(converge(`start ${to} (${target}/${count})`, fleet(count - upgraded, target)));
    steps.push(converge(`stop ${from} (${target}/${count} upgraded)`, fleet(count - target, target)));
    upgraded = target;
    if (verify.length > 0)
      steps.push({
        kind: "smoke",
        description: `verify ${to} (${target}/${count})`,
        version: to,
        checks: verify,
      });
    return true;
  };
  const hold = (forMs: number) => {
    if (forMs <= 0) return;
    // A wait too short to gather a sample is a plain wait; the fleet's last group has nothing left to compare.
    if (upgraded >= count || forMs < minJudgedWaitMs)
      steps.push({ kind: "pause", description: `wait ${seconds(forMs)}`, forMs });
    else
      steps.push({
        kind: "analysis",
        description: `judge ${to} on ${upgraded}/${count} instances against ${from} for ${seconds(forMs)}`,
        baseline: from,
        candidate: to,
        forMs,
        settings: analysis,
      });
  };
  for (const step of schedule) {
    if ("instances" in step) {
      if (upgradeTo(step.instances)) hold(step.wait);
    } else {
      const goal = Math.ceil((step.until / 100) * count);
      while (upgraded < goal) {
        upgradeTo(upgraded + 1);
        if (upgraded < count) hold(step.every);
      }
    }
  }
  upgradeTo(count);
  return steps;
}

/**
 * One-some-many: the candidate starts beside stable without users, then each phase adds a
 * group (internal users, a beta list) or raises the share of users picked by a sticky hash
 * of their key, each optionally judged against stable and paused; after the last phase
 * everyone gets the candidate and stable stops. A user keeps their version throughout,
 * since groups and the share only grow.
 */
export function planPhased(
  { from, to, count }: PlanInput,
  strategy: Extract<StrategySpec, { type: "phased" }>,
): Step[] {
  if (from === null || from === to) {
    return [
      converge(`start ${count} × ${to}`, { instances: { [to]: count }, traffic: all(to), mode: "normal" }),
    ];
  }
  const instances = { [from]: count, [to]: count };
  const steps: Step[] = [
    converge(`start ${count} × ${to} beside ${from}, without users`, {
      instances,
      traffic: all(from),
      mode: "normal",
    }),
  ];
  const groups: CohortGroup[] = [];
  let percent = 0;
  for (const [i, p] of strategy.phases.entries()) {
    if (p.match) groups.push(cohortGroup(p, i));
    if (p.percent !== undefined) percent = p.percent;
    const name = phaseName(p, i);
    const cohorts: RouteCohorts = {
      stable: from,
      candidate: to,
      userKey: strategy.userKey,
      groups: [...groups],
      percent,
      salt: to,
    };
    steps.push(
      converge(`phase ${i + 1}: ${to} for ${name}`, { instances, traffic: { cohorts }, mode: "normal" }),
    );
    if (p.analysis !== undefined) {
      steps.push({
        kind: "analysis",
        description: `judge ${to} for ${name} against ${from} for ${seconds(p.analysis)}`,
        baseline: from,
        candidate: to,
        forMs: p.analysis,
        settings: strategy.analysis,
      });
    }
    if (p.pause !== undefined) {
      steps.push({
        kind: "pause",
        description: p.pause === "promote" ? `wait for \`gantry promote\`` : `pause for ${seconds(p.pause)}`,
        forMs: p.pause === "promote" ? null : p.pause,
      });
    }
  }
  steps.push(converge(`send everyone to ${to}`, { instances, traffic: all(to), mode: "normal" }));
  steps.push(converge(`stop ${from}`, { instances: { [to]: count }, traffic: all(to), mode: "normal" }));
  return steps;
}

function phaseName(p: Phase, index: number): string {
  if (p.name) return p.name;
  if (p.percent !== undefined) return `${p.percent}% of users`;
  return `group ${index + 1}`;
}

function cohortGroup(p: Phase, index: number): CohortGroup {
  const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
  const lowerKeys = (r: Record<string, string | string[]> | undefined) =>
    Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k.toLowerCase(), list(v)]));
  return {
    name: phaseName(p, index),
    headers: lowerKeys(p.match?.header),
    cookies: Object.fromEntries(Object.entries(p.match?.cookie ?? {}).map(([k, v]) => [k, list(v)])),
    users: p.match?.users ?? [],
  };
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Where a failed or aborted rollout returns: the previous version with all traffic. */
export function restoreTarget(from: string | null, count: number): Target {
  if (from === null) return { instances: {}, traffic: [], mode: "normal" };
  return { instances: { [from]: count }, traffic: all(from), mode: "normal" };
}

/** Rollback onto a colour that is still running idle: one switch, then the bad version stops. */
export function planSwitchBack(current: string, previous: string, count: number): Step[] {
  return [
    converge(`switch all traffic back to ${previous}`, {
      instances: { [previous]: count, [current]: count },
      traffic: all(previous),
      mode: "normal",
    }),
    converge(`stop ${current}`, { instances: { [previous]: count }, traffic: all(previous), mode: "normal" }),
  ];
}

/** The steady state of a service with no rollout running. */
export function steadyTarget(live: string, count: number, idle: { version: string } | null): Target {
  const instances: Record<string, number> = { [live]: count };
  if (idle && idle.version !== live) instances[idle.version] = count;
  return { instances, traffic: all(live), mode: "normal" };
}
