import { z } from "zod";
import { counterQuery } from "../prometheus/index.ts";
import { latencyBucketsSeconds } from "../router/latency-buckets.ts";
import type { BurnRateRule, SloWindow, ThresholdRule } from "../slo/index.ts";
import { duration, formatDuration, parseDuration } from "./duration.ts";
import { httpUrl, serviceName, versionName } from "./service-spec.ts";
import { timeZone } from "./time-zone.ts";

export const sloName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    "an SLO name is lower-case letters, digits and dashes, starting with a letter",
  );

/** A share such as an objective: 0.999 or "99.9%". */
export const ratio = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const n =
    typeof value === "number"
      ? value
      : /^\d+(\.\d+)?%$/.test(value.trim())
        ? Number.parseFloat(value) / 100
        : Number.NaN;
  if (!(n > 0 && n < 1)) {
    ctx.addIssue({
      code: "custom",
      message:
        typeof value === "number" && value > 1 && value < 100
          ? `${value} is not a ratio; write ${Number((value / 100).toPrecision(12))} or "${value}%"`
          : 'write a share between 0 and 1, such as 0.999 or "99.9%"',
    });
    return z.NEVER;
  }
  // "99.9%" is 0.9990000000000001 in floating point; keep the share as written.
  return Number(n.toPrecision(12));
});

const calendarUnits = ["day", "week", "month", "quarter", "year"] as const;
const days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

/** `28d` (rolling) or `{calendar: month, timeZone: Europe/Paris}`. */
export const sloWindowSpec = z
  .union(
    [
      z.union([z.string(), z.number()]),
      z
        .object({
          calendar: z.enum(calendarUnits),
          timeZone: timeZone.default("UTC"),
          /** First day of a calendar week. */
          weekStart: z.enum(days).default("mon"),
        })
        .strict(),
    ],
    {
      error:
        'a window is a duration such as "28d" (rolling) or {calendar: day|week|month|quarter|year, timeZone: Europe/Paris, weekStart: mon}',
    },
  )
  .transform((value, ctx): SloWindow => {
    if (typeof value === "object")
      return {
        type: "calendar",
        unit: value.calendar,
        timeZone: value.timeZone,
        weekStart: days.indexOf(value.weekStart),
      };
    const ms = typeof value === "number" ? value : parseDuration(value);
    if (ms === undefined || ms < 60_000) {
      ctx.addIssue({
        code: "custom",
        message:
          'a window is a duration of at least a minute such as "28d" (rolling), or {calendar: month, timeZone: UTC}',
      });
      return z.NEVER;
    }
    return { type: "rolling", duration: ms };
  });

/** The histogram's bounds that are whole milliseconds (2.5 ms cannot be written as a duration). */
const latencyBoundsMs = latencyBucketsSeconds
  .map((s) => Math.round(s * 1_000_000) / 1000)
  .filter((ms) => Number.isInteger(ms));

/** PromQL for a counter: a series selector or sum() of one (Gantry takes the increase itself). */
const counterPromql = z
  .string()
  .max(2000)
  .superRefine((query, ctx) => {
    const parsed = counterQuery(query);
    if ("error" in parsed) ctx.addIssue({ code: "custom", message: parsed.error });
  });

/** Events counted by Prometheus: `good` or `bad`, and `total`, each a counter. */
export const prometheusSliSpec = z
  .object(
    {
      /** The Prometheus server, e.g. http://127.0.0.1:9090. */
      url: httpUrl,
      good: counterPromql.optional(),
      bad: counterPromql.optional(),
      total: counterPromql,
    },
    { error: "a ratio SLI reads its events from Prometheus: prometheus: {url, good (or bad), total}" },
  )
  .strict()
  .superRefine((p, ctx) => {
    if ((p.good === undefined) === (p.bad === undefined))
      ctx.addIssue({
        code: "custom",
        path: [p.good === undefined ? "good" : "bad"],
        message:
          p.good === undefined
            ? "give good (the counter of good events) or bad (of bad ones) beside total"
            : "give good or bad, not both: Gantry counts the other as total minus it",
      });
  });
export type PrometheusSliSpec = z.output<typeof prometheusSliSpec>;

export const sliSpec = z.discriminatedUnion("type", [
  /** Share of requests answered without a 5xx. */
  z.object({ type: z.literal("availability"), version: versionName.optional() }).strict(),
  /** Share of requests answered (headers sent) within `threshold`. */
  z
    .object({
      type: z.literal("latency"),
      threshold: duration.refine((ms) => latencyBoundsMs.includes(ms), {
        message: `a latency threshold must be a bound of the router's histogram, so requests are counted exactly: one of ${latencyBoundsMs.map(formatDuration).join(", ")}`,
      }),
      version: versionName.optional(),
    })
    .strict(),
  /** Share of good events among all, counted by Prometheus (docs/slo.md#slis-from-prometheus). */
  z.object({ type: z.literal("ratio"), prometheus: prometheusSliSpec }).strict(),
]);
export type SliSpec = z.output<typeof sliSpec>;

const severity = z.enum(["page", "ticket"]);

const burnRateRule = z
  .object({
    severity,
    longWindow: duration.refine((ms) => ms > 0, { message: "longWindow must be longer than 0" }),
    /** 0 or left out: the long window alone decides. */
    shortWindow: duration.default(0),
    burnRate: z.number().gt(0),
    /** How long the condition must hold before the alert fires. */
    for: duration.default(0),
  })
  .strict()
  .refine((r) => r.shortWindow < r.longWindow, {
    message: "shortWindow must be shorter than longWindow (the workbook uses a twelfth)",
    path: ["shortWindow"],
  });

const minute = 60_000;
const hour = 60 * minute;
const workbook: BurnRateRule[] = [
  { severity: "page", longWindow: hour, shortWindow: 5 * minute, burnRate: 14.4 },
  { severity: "page", longWindow: 6 * hour, shortWindow: 30 * minute, burnRate: 6 },
  { severity: "ticket", longWindow: 24 * hour, shortWindow: 2 * hour, burnRate: 3 },
  { severity: "ticket", longWindow: 72 * hour, shortWindow: 6 * hour, burnRate: 1 },
];

const thresholdRule = z
  .object({
    severity,
    window: duration.refine((ms) => ms > 0, { message: "a window must be longer than 0" }),
    /** Alert when the share of bad events over the window is above this. */
    maxBadRatio: ratio,
    /** Events the window must hold before the rule may fire. */
    minEvents: z.number().int().min(1).default(100),
  })
  .strict();

export const alertingSpec = z
  .object({
    /** `workbook` (the SRE workbook's four rules), `none`, or your own list. */
    burnRates: z
      .union([z.literal("workbook"), z.literal("none"), z.array(burnRateRule)])
      .default("workbook")
      .transform((v): BurnRateRule[] => (v === "workbook" ? workbook : v === "none" ? [] : v)),
    thresholds: z.array(thresholdRule).default([]),
  })
  .strict();

/** A service level objective: the share of good events an SLI must keep over a window. */
export const sloSpec = z
  .object({
    service: serviceName,
    description: z.string().max(500).optional(),
    sli: sliSpec,
    objective: ratio,
    window: sloWindowSpec.prefault("28d"),
    /** The contract; the SLO must be at least as strict, since it is the early warning. */
    sla: z.object({ objective: ratio, window: sloWindowSpec.optional() }).strict().optional(),
    alerting: alertingSpec.prefault({}),
  })
  .strict()
  .superRefine((slo, ctx) => {
    if (slo.sla && slo.objective < slo.sla.objective) {
      ctx.addIssue({
        code: "custom",
        path: ["objective"],
        message: `${percent(slo.objective)} is looser than the SLA's ${percent(slo.sla.objective)}: the SLO is the early warning, so it must be at least as strict; raise objective to ${slo.sla.objective} or more, or lower sla.objective`,
      });
    }
  });

export type SloSpec = z.output<typeof sloSpec>;
export type SloSpecInput = z.input<typeof sloSpec>;
export type { BurnRateRule, ThresholdRule };

function percent(r: number): string {
  return `${Number((r * 100).toFixed(6))}%`;
}

/** Where SLI time series are kept: fine points for recent hours, coarse ones for weeks, a fixed row budget. */
export const sliStorageSpec = z
  .object({
    /**
     * How often the router's counters (and instances' CPU and memory) are sampled, and SLIs
     * read from Prometheus: the fine resolution.
     */
    interval: duration.default(10_000),
    /** How long fine points are kept. */
    fineFor: duration.default(6 * hour),
    /** Resolution of older points. */
    coarse: duration.default(5 * minute),
    /** How long coarse points are kept; no rolling SLO window or alert window may be longer. */
    retention: duration.default(35 * 24 * hour),
    /** Most rows kept; the oldest go first when the budget is full. */
    maxRows: z.number().int().min(1000).default(1_000_000),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.interval < 200 || s.interval > 300_000)
      ctx.addIssue({ code: "custom", path: ["interval"], message: "interval must be from 200ms to 5m" });
    if (s.coarse < s.interval || s.coarse % s.interval !== 0)
      ctx.addIssue({
        code: "custom",
        path: ["coarse"],
        message: "coarse must be a whole multiple of interval",
      });
    if (s.fineFor < s.coarse)
      ctx.addIssue({ code: "custom", path: ["fineFor"], message: "fineFor must be at least coarse" });
    if (s.retention < s.fineFor)
      ctx.addIssue({ code: "custom", path: ["retention"], message: "retention must be at least fineFor" });
  });

export type SliStorageSpec = z.output<typeof sliStorageSpec>;

function sliToInput(sli: SliSpec): SloSpecInput["sli"] {
  if (sli.type === "ratio") return { type: "ratio", prometheus: { ...sli.prometheus } };
  const version = sli.version !== undefined && { version: sli.version };
  if (sli.type === "availability") return { type: "availability", ...version };
  return { type: "latency", threshold: formatDuration(sli.threshold), ...version };
}

/** A parsed SLO written back in the form gantry.yaml uses (durations as text), which parses to it again. */
export function sloToInput(slo: SloSpec): SloSpecInput {
  const window = (w: SloWindow) =>
    w.type === "rolling"
      ? formatDuration(w.duration)
      : { calendar: w.unit, timeZone: w.timeZone, weekStart: days[w.weekStart ?? 1]! };
  return {
    service: slo.service,
    ...(slo.description !== undefined && { description: slo.description }),
    sli: sliToInput(slo.sli),
    objective: slo.objective,
    window: window(slo.window),
    ...(slo.sla && {
      sla: { objective: slo.sla.objective, ...(slo.sla.window && { window: window(slo.sla.window) }) },
    }),
    alerting: {
      burnRates: slo.alerting.burnRates.map((r) => ({
        severity: r.severity,
        longWindow: formatDuration(r.longWindow),
        shortWindow: formatDuration(r.shortWindow),
        burnRate: r.burnRate,
        ...(r.for ? { for: formatDuration(r.for) } : {}),
      })),
      thresholds: slo.alerting.thresholds.map((r) => ({
        severity: r.severity,
        window: formatDuration(r.window),
        maxBadRatio: r.maxBadRatio,
        minEvents: r.minEvents,
      })),
    },
  };
}
