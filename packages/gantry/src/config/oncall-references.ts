import type { NotifierSpec, PersonSpec, PolicySpec, RouteSpec, ScheduleSpec } from "./oncall-spec.ts";

/** The on-call entries that gantry.yaml declares and the API can also write. */
export const oncallKinds = ["person", "schedule", "policy", "route"] as const;
export type OncallKind = (typeof oncallKinds)[number];

export interface OncallSpecOf {
  person: PersonSpec;
  schedule: ScheduleSpec;
  policy: PolicySpec;
  route: RouteSpec;
}

/** The key under gantry.yaml `oncall:` (and the API path) of each kind. */
export const oncallCollections = {
  person: "people",
  schedule: "schedules",
  policy: "policies",
  route: "routes",
} as const satisfies Record<OncallKind, string>;

/** A name an entry uses: a notifier, person, schedule or policy, and where in the entry. */
export interface OncallReference {
  collection: "notifiers" | "people" | "schedules" | "policies";
  name: string;
  path: (string | number)[];
}

/** Every name an entry refers to, with its path inside the entry. */
export function referencesOf<K extends OncallKind>(kind: K, spec: OncallSpecOf[K]): OncallReference[] {
  const out: OncallReference[] = [];
  if (kind === "person")
    for (const [i, c] of (spec as PersonSpec).contacts.entries())
      out.push({ collection: "notifiers", name: c.notifier, path: ["contacts", i, "notifier"] });
  if (kind === "schedule") {
    const s = spec as ScheduleSpec;
    for (const [i, l] of s.layers.entries())
      for (const [j, p] of l.participants.entries())
        out.push({ collection: "people", name: p, path: ["layers", i, "participants", j] });
    for (const [i, o] of s.overrides.entries())
      out.push({ collection: "people", name: o.person, path: ["overrides", i, "person"] });
  }
  if (kind === "policy")
    for (const [i, level] of (spec as PolicySpec).levels.entries())
      for (const [j, t] of level.targets.entries())
        out.push(
          "person" in t
            ? { collection: "people", name: t.person, path: ["levels", i, "targets", j, "person"] }
            : { collection: "schedules", name: t.schedule, path: ["levels", i, "targets", j, "schedule"] },
        );
  if (kind === "route")
    out.push({ collection: "policies", name: (spec as RouteSpec).policy, path: ["policy"] });
  return out;
}

/** What a person's contacts lack for their notifier: an email contact needs an address. */
export function contactIssues(
  person: PersonSpec,
  notifiers: Readonly<Record<string, NotifierSpec>>,
): { path: (string | number)[]; message: string }[] {
  return person.contacts.flatMap((c, i) =>
    notifiers[c.notifier]?.type === "smtp" && !c.to
      ? [{ path: ["contacts", i, "to"], message: "an email contact needs to: ADDRESS" }]
      : [],
  );
}
