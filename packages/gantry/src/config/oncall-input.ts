import { formatDuration } from "./duration.ts";
import type { OncallKind, OncallSpecOf } from "./oncall-references.ts";
import type { PolicySpec, ScheduleSpec } from "./oncall-spec.ts";

const dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

/** Minutes after midnight as "HH:MM" (1440 as "24:00"). */
function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/**
 * An on-call entry as it is written in gantry.yaml (and sent to the API): what the schema
 * parsed, turned back into its input form, so that parsing it again gives the same entry. The
 * API stores and shows entries in this form.
 */
export function oncallToInput<K extends OncallKind>(kind: K, spec: OncallSpecOf[K]): unknown {
  if (kind === "schedule") return scheduleToInput(spec as ScheduleSpec);
  if (kind === "policy") return policyToInput(spec as PolicySpec);
  return structuredClone(spec);
}

export function scheduleToInput(s: ScheduleSpec) {
  return {
    timeZone: s.timeZone,
    layers: s.layers.map((l) => ({
      name: l.name,
      participants: [...l.participants],
      turn:
        l.turn.unit === "hours"
          ? `${l.turn.count}h`
          : l.turn.count % 7 === 0
            ? `${l.turn.count / 7}w`
            : `${l.turn.count}d`,
      start: l.start,
      handoff: clock(l.handoff),
      ...(l.timeZone !== undefined && { timeZone: l.timeZone }),
      restrictions: l.restrictions.map((r) => ({
        days: r.days.map((d) => dayNames[d]!),
        from: clock(r.from),
        to: clock(r.to),
      })),
    })),
    overrides: s.overrides.map((o) => ({ ...o })),
  };
}

export function policyToInput(p: PolicySpec) {
  return {
    levels: p.levels.map((l) => ({
      targets: l.targets.map((t) => ({ ...t })),
      delay: formatDuration(l.delay),
    })),
    repeat: p.repeat,
  };
}
