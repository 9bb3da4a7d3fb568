import {
  contactIssues,
  issuePath,
  type NotifierSpec,
  type OncallKind,
  type OncallSpecOf,
  oncallCollections,
  referencesOf,
} from "../config/index.ts";
import type { EscalationPolicy } from "./escalation.ts";

/** An override as the directory keeps it (times as ISO 8601). */
export interface OverrideRef {
  id: number;
  schedule: string;
  person: string;
  to: string;
}

export interface OncallEntry<K extends OncallKind = OncallKind> {
  kind: K;
  name: string;
  spec: OncallSpecOf[K];
}

/**
 * What still names a person, schedule or policy, each as a phrase for an error message:
 * entries (by field), overrides that have not ended, and escalations under way. Ended
 * overrides and finished escalations are history and hold nothing.
 */
export function referrersOf(
  target: { kind: "person" | "schedule" | "policy"; name: string },
  state: {
    entries: Iterable<OncallEntry>;
    overrides: readonly OverrideRef[];
    escalations: readonly { incidentId: number; policy: EscalationPolicy }[];
    now: number;
  },
): string[] {
  const collection = oncallCollections[target.kind];
  const out: string[] = [];
  for (const entry of state.entries) {
    const paths = referencesOf(entry.kind, entry.spec)
      .filter((r) => r.collection === collection && r.name === target.name)
      .map((r) => issuePath(r.path));
    if (paths.length > 0) out.push(`${entry.kind} ${entry.name} (${paths.join(", ")})`);
  }
  if (target.kind !== "policy") {
    for (const o of state.overrides) {
      if (Date.parse(o.to) <= state.now) continue;
      if ((target.kind === "person" ? o.person : o.schedule) === target.name)
        out.push(`override ${o.id} (${o.person} on call for ${o.schedule} until ${o.to})`);
    }
    for (const e of state.escalations) {
      const named = e.policy.levels.some((l) =>
        l.targets.some(
          (t) =>
            (target.kind === "person" ? "person" in t && t.person : "schedule" in t && t.schedule) ===
            target.name,
        ),
      );
      if (named) out.push(`the escalation of incident ${e.incidentId} (policy ${e.policy.name}) under way`);
    }
  }
  return out;
}

const singular = {
  notifiers: "notifier",
  people: "person",
  schedules: "schedule",
  policies: "policy",
} as const;

/**
 * The names an entry uses that exist nowhere among `known`, and contacts that lack an
 * address, each with its path in the entry and the fix.
 */
export function unknownNames<K extends OncallKind>(
  kind: K,
  spec: OncallSpecOf[K],
  known: {
    notifiers: Readonly<Record<string, NotifierSpec>>;
    people: string[];
    schedules: string[];
    policies: string[];
  },
): { path: (string | number)[]; message: string }[] {
  const issues = referencesOf(kind, spec).flatMap((r) => {
    const names = r.collection === "notifiers" ? Object.keys(known.notifiers) : known[r.collection];
    if (names.includes(r.name)) return [];
    const fix =
      r.collection === "notifiers"
        ? "notifiers are declared in gantry.yaml (oncall.notifiers) only"
        : `add it in gantry.yaml (oncall.${r.collection}) or with PUT /api/v1/oncall/${r.collection}/${r.name}`;
    return [
      {
        path: r.path,
        message: `"${r.name}" is not a known ${singular[r.collection]} (${names.join(", ") || "none"}); ${fix}`,
      },
    ];
  });
  if (kind === "person") issues.push(...contactIssues(spec as OncallSpecOf["person"], known.notifiers));
  return issues;
}
