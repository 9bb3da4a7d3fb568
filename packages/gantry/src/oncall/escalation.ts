import { onCallAt, type Schedule } from "./rotation.ts";

/** Whom a level pages: a person, or whoever a schedule has on call when the level is reached. */
export type EscalationTarget = { person: string } | { schedule: string };

export interface EscalationLevel {
  targets: readonly EscalationTarget[];
  /** How long this level has to acknowledge before the next level is paged, ms. */
  delay: number;
}

/**
 * Levels paged in turn until someone acknowledges; after the last level's delay the policy
 * starts again from the first, `repeat` more times (repeat 0: one pass).
 */
export interface EscalationPolicy {
  name: string;
  levels: readonly EscalationLevel[];
  repeat: number;
}

export interface EscalationStep {
  /** 0 for the first pass through the levels, 1 for the first repeat, ... */
  round: number;
  level: number;
  /** When this level is paged, ms. */
  at: number;
  targets: readonly EscalationTarget[];
}

/** One pass through the levels, ms. */
export function roundLength(policy: EscalationPolicy): number {
  return policy.levels.reduce((sum, l) => sum + l.delay, 0);
}

/** Every step of the policy for an alert triggered at `triggeredAt`, in order. */
export function escalationSteps(policy: EscalationPolicy, triggeredAt: number): EscalationStep[] {
  const steps: EscalationStep[] = [];
  let at = triggeredAt;
  for (let round = 0; round <= policy.repeat; round++) {
    for (const [level, l] of policy.levels.entries()) {
      steps.push({ round, level, at, targets: l.targets });
      at += l.delay;
    }
  }
  return steps;
}

/** The steps due by `now` (all of them once the policy has run out). */
export function stepsDue(policy: EscalationPolicy, triggeredAt: number, now: number): EscalationStep[] {
  return escalationSteps(policy, triggeredAt).filter((s) => s.at <= now);
}

/** The next step after `now`, or null when the policy has nothing left to page. */
export function nextStep(policy: EscalationPolicy, triggeredAt: number, now: number): EscalationStep | null {
  return escalationSteps(policy, triggeredAt).find((s) => s.at > now) ?? null;
}

/** When the policy gives up: the end of the last level's delay of the last round. */
export function exhaustedAt(policy: EscalationPolicy, triggeredAt: number): number {
  return triggeredAt + roundLength(policy) * (policy.repeat + 1);
}

export interface Recipient {
  person: string;
  /** The schedule and layer that made them a target, or null when named directly. */
  via: { schedule: string; layer: string | null } | null;
}

/**
 * The people a step pages at `at`: schedules are read at that instant. A person reached twice
 * is paged once; a schedule with nobody on call pages nobody (and is reported by `missing`).
 */
export function recipients(
  targets: readonly EscalationTarget[],
  schedules: ReadonlyMap<string, Schedule>,
  at: number,
): { recipients: Recipient[]; missing: string[] } {
  const out: Recipient[] = [];
  const missing: string[] = [];
  for (const target of targets) {
    let recipient: Recipient;
    if ("person" in target) recipient = { person: target.person, via: null };
    else {
      const schedule = schedules.get(target.schedule);
      const who = schedule ? onCallAt(schedule, at) : null;
      if (!who) {
        missing.push(target.schedule);
        continue;
      }
      recipient = { person: who.person, via: { schedule: target.schedule, layer: who.layer } };
    }
    if (!out.some((r) => r.person === recipient.person)) out.push(recipient);
  }
  return { recipients: out, missing };
}
