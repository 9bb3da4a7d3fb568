import { z } from "zod";
import { timeZone } from "./time-zone.ts";

const days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof days)[number];
export const weekdays = days;

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day is "HH:MM", e.g. "08:00"');
const dayClock = z
  .string()
  .regex(
    /^(sun|mon|tue|wed|thu|fri|sat) ([01]\d|2[0-3]):[0-5]\d$/,
    'write a day and a time, e.g. "fri 15:00"',
  );

/**
 * A release freeze: deploys to the services it names (all when none) are refused while it
 * is in force. Exactly one of weekly, daily or once.
 */
export const freezeSpec = z
  .object({
    name: z.string().min(1).max(100),
    services: z.array(z.string()).default([]),
    timezone: timeZone.default("UTC"),
    reason: z.string().max(500).optional(),
    /** Every week from one day and time to another, e.g. from "fri 15:00" to "mon 08:00". */
    weekly: z.object({ from: dayClock, to: dayClock }).strict().optional(),
    /** Every day (or the listed days, on which it starts) from one time to another; may cross midnight. */
    daily: z
      .object({ from: clock, to: clock, days: z.array(z.enum(days)).default([...days]) })
      .strict()
      .optional(),
    /** Once, between two times (ISO 8601 with offset). */
    once: z
      .object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
      .strict()
      .refine((o) => Date.parse(o.from) < Date.parse(o.to), {
        message: "once.from must be before once.to",
        path: ["to"],
      })
      .optional(),
  })
  .strict()
  .refine((f) => [f.weekly, f.daily, f.once].filter(Boolean).length === 1, {
    message: "give exactly one of weekly, daily or once",
  });

export type FreezeSpec = z.output<typeof freezeSpec>;
