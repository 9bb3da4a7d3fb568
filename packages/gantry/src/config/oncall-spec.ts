import { z } from "zod";
import type { EscalationPolicy, RotationLayer, Schedule } from "../oncall/index.ts";
import { duration } from "./duration.ts";
import { contactIssues, type OncallKind, oncallCollections, referencesOf } from "./oncall-references.ts";
import { timeZone } from "./time-zone.ts";

const name = z
  .string()
  .regex(
    /^[a-z][a-z0-9._-]{0,62}$/,
    "a name is lower-case letters, digits, '.', '_' and '-', starting with a letter",
  );
const days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const clock = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a time of day is "HH:MM", e.g. "09:00"')
  .transform((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3)));

/**
 * A secret: the value itself, or `env:NAME` to read it from the environment at start (so
 * gantry.yaml can be committed). A missing variable is refused naming it.
 */
export const secret = z
  .string()
  .min(1)
  .transform((v, ctx) => {
    if (!v.startsWith("env:")) return v;
    const value = process.env[v.slice(4)];
    if (!value) {
      ctx.addIssue({
        code: "custom",
        message: `environment variable ${v.slice(4)} is not set; set it or write the value`,
      });
      return z.NEVER;
    }
    return value;
  });

/** A turn: "1w" or "3d" on the wall clock (handoffs keep their local time), "12h" of elapsed time. */
const turn = z.string().transform((t, ctx) => {
  const m = /^(\d+)(w|d|h)$/.exec(t.trim());
  const n = m ? Number(m[1]) : 0;
  if (!m || n < 1) {
    ctx.addIssue({ code: "custom", message: 'a turn is weeks, days or hours, e.g. "1w", "2d" or "12h"' });
    return z.NEVER;
  }
  return m[2] === "h"
    ? { unit: "hours" as const, count: n }
    : { unit: "days" as const, count: m[2] === "w" ? 7 * n : n };
});

const restriction = z
  .object({
    /** The days a window starts on; all by default. */
    days: z
      .array(z.enum(days))
      .min(1)
      .default([...days]),
    from: clock,
    /** Up to and including 24:00; at or before `from` the window ends the next day. */
    to: clock,
  })
  .strict()
  .transform((r) => ({ days: r.days.map((d) => days.indexOf(d)), from: r.from, to: r.to }));

const layer = z
  .object({
    name,
    /** In order: the first takes the first turn. */
    participants: z.array(name).min(1),
    turn,
    /** The local date the first turn starts, at `handoff`. */
    start: z.iso.date({ error: "start is a date such as 2026-01-05" }),
    handoff: clock.default(9 * 60),
    /** Defaults to the schedule's. */
    timeZone: timeZone.optional(),
    /** When given, the layer has someone on call only inside these windows (e.g. weekdays 09:00–17:00). */
    restrictions: z.array(restriction).default([]),
  })
  .strict();

const override = z
  .object({
    person: name,
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
  })
  .strict()
  .refine((o) => Date.parse(o.from) < Date.parse(o.to), { message: "from must be before to", path: ["to"] });

export const scheduleSpec = z
  .object({
    timeZone: timeZone.default("UTC"),
    /** Where a later layer has someone on call, it wins. */
    layers: z.array(layer).min(1),
    overrides: z.array(override).default([]),
  })
  .strict();

const target = z.union([z.object({ person: name }).strict(), z.object({ schedule: name }).strict()], {
  error: "a target is {person: NAME} or {schedule: NAME}",
});

export const policySpec = z
  .object({
    levels: z
      .array(
        z
          .object({
            targets: z.array(target).min(1),
            /** How long this level has to acknowledge before the next one is paged. */
            delay: duration.refine((ms) => ms >= 1000, { message: "a delay is at least 1s" }),
          })
          .strict(),
      )
      .min(1),
    /** Times the whole policy starts again when nobody acknowledged. */
    repeat: z.number().int().min(0).max(10).default(0),
  })
  .strict();

const webhookNotifier = z
  .object({
    type: z.literal("webhook"),
    url: z.url({ protocol: /^https?$/, error: "url must be an http:// or https:// URL" }),
    /** Signs every body: X-Gantry-Signature: sha256=HMAC(secret, timestamp + "." + body). */
    secret,
  })
  .strict();
const slackNotifier = z
  .object({
    type: z.literal("slack"),
    /** A Slack incoming-webhook URL. */
    url: z.url({ protocol: /^https?$/, error: "url must be the incoming webhook's https:// URL" }),
  })
  .strict();
const pagerdutyNotifier = z
  .object({
    type: z.literal("pagerduty"),
    /** The integration (routing) key of a PagerDuty service's Events API v2 integration. */
    routingKey: secret,
    url: z.url({ protocol: /^https?$/ }).default("https://events.pagerduty.com/v2/enqueue"),
  })
  .strict();
const smtpNotifier = z
  .object({
    type: z.literal("smtp"),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** true: TLS from the start (port 465); false: STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    from: z.string().min(3),
    auth: z
      .object({ user: z.string().min(1), pass: secret })
      .strict()
      .optional(),
  })
  .strict();

export const notifierSpec = z.discriminatedUnion("type", [
  webhookNotifier,
  slackNotifier,
  pagerdutyNotifier,
  smtpNotifier,
]);
export type NotifierSpec = z.output<typeof notifierSpec>;

/** How a person is reached: a notifier and, for email, the address; for Slack, who to mention. */
const contact = z
  .object({
    notifier: name,
    /** smtp: the address. */
    to: z.string().min(3).optional(),
    /** slack: a member id to mention, e.g. U024BE7LH. */
    mention: z.string().optional(),
  })
  .strict();

/** A person: how they are reached (oncall.people.NAME, or PUT /api/v1/oncall/people/NAME). */
export const personSpec = z.object({ contacts: z.array(contact).min(1) }).strict();

/** Which policy pages for an incident of a service (any when left out) and severity. */
export const routeSpec = z
  .object({
    service: z.string().optional(),
    severities: z
      .array(z.enum(["critical", "high", "medium", "low"]))
      .min(1)
      .default(["critical", "high"]),
    policy: name,
  })
  .strict();

/** The schema of each kind of on-call entry: one source of truth for gantry.yaml and the API. */
export const oncallEntrySpecs = {
  person: personSpec,
  schedule: scheduleSpec,
  policy: policySpec,
  route: routeSpec,
} as const;

/** The name of a person, notifier, schedule, policy or API route. */
export const oncallName = name;

export type PersonSpec = z.output<typeof personSpec>;
export type ScheduleSpec = z.output<typeof scheduleSpec>;
export type PolicySpec = z.output<typeof policySpec>;
export type RouteSpec = z.output<typeof routeSpec>;

export const oncallSpec = z
  .object({
    people: z.record(name, personSpec).default({}),
    notifiers: z.record(name, notifierSpec).default({}),
    schedules: z.record(name, scheduleSpec).default({}),
    policies: z.record(name, policySpec).default({}),
    /** Which policy pages for an incident: the first route that matches. */
    routes: z.array(routeSpec).default([]),
    delivery: z
      .object({
        /** Attempts per page before it is given up (and the failure put on the timeline). */
        attempts: z.number().int().min(1).max(50).default(8),
        /** Wait before the first retry; doubled every attempt, with jitter, up to maxBackoff. */
        backoff: duration.default(1000),
        maxBackoff: duration.default(300_000),
        /** A notifier call slower than this fails (and is retried). */
        timeout: duration.default(10_000),
      })
      .strict()
      .default({ attempts: 8, backoff: 1000, maxBackoff: 300_000, timeout: 10_000 }),
  })
  .strict()
  .superRefine((o, ctx) => {
    // gantry.yaml is whole by itself: its entries name only what it declares.
    const entries: [OncallKind, string | number, unknown][] = [
      ...Object.entries(o.people).map(([n, spec]) => ["person", n, spec] as [OncallKind, string, unknown]),
      ...Object.entries(o.schedules).map(
        ([n, spec]) => ["schedule", n, spec] as [OncallKind, string, unknown],
      ),
      ...Object.entries(o.policies).map(([n, spec]) => ["policy", n, spec] as [OncallKind, string, unknown]),
      ...o.routes.map((spec, i) => ["route", i, spec] as [OncallKind, number, unknown]),
    ];
    for (const [kind, key, spec] of entries) {
      const at = [oncallCollections[kind], key];
      for (const ref of referencesOf(kind, spec as never)) {
        const names = Object.keys(o[ref.collection]);
        if (!Object.hasOwn(o[ref.collection], ref.name))
          ctx.addIssue({
            code: "custom",
            path: [...at, ...ref.path],
            message: `"${ref.name}" is not in oncall.${ref.collection}${names.length ? ` (${names.join(", ")})` : ""}`,
          });
      }
      if (kind === "person")
        for (const issue of contactIssues(spec as PersonSpec, o.notifiers))
          ctx.addIssue({ code: "custom", path: [...at, ...issue.path], message: issue.message });
    }
  });
export type OncallSpec = z.output<typeof oncallSpec>;

/** The pure on-call model of a schedule from its declaration (plus overrides from the API). */
export function toSchedule(
  scheduleName: string,
  spec: z.output<typeof scheduleSpec>,
  extraOverrides: { person: string; from: number; to: number }[] = [],
): Schedule {
  const layers: RotationLayer[] = spec.layers.map((l) => {
    const [year, month, day] = l.start.split("-").map(Number) as [number, number, number];
    return {
      name: l.name,
      participants: l.participants,
      turn: l.turn,
      start: { year, month, day },
      handoff: l.handoff,
      timeZone: l.timeZone ?? spec.timeZone,
      restrictions: l.restrictions,
    };
  });
  return {
    name: scheduleName,
    layers,
    overrides: [
      ...spec.overrides.map((o) => ({ person: o.person, from: Date.parse(o.from), to: Date.parse(o.to) })),
      ...extraOverrides,
    ],
  };
}

export function toPolicy(policyName: string, spec: z.output<typeof policySpec>): EscalationPolicy {
  return { name: policyName, levels: spec.levels, repeat: spec.repeat };
}
