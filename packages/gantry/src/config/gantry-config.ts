import { z } from "zod";
import { formatDuration } from "./duration.ts";
import { flagsSpec } from "./flags-spec.ts";
import { freezeSpec } from "./freeze-spec.ts";
import { incidentsSpec } from "./incidents-spec.ts";
import { oncallSpec } from "./oncall-spec.ts";
import { serviceName, serviceSpec } from "./service-spec.ts";
import { sliStorageSpec, sloName, sloSpec } from "./slo-spec.ts";

const port = z.number().int().min(0).max(65535);

/** An alert on a Scientist experiment's recent runs (docs/scientist.md). */
export const experimentAlertSpec = z
  .object({
    /** The service the alert (and its incident) belongs to, for routing and timelines. */
    service: serviceName.optional(),
    /** Fires when more than this share of the recent runs mismatched. */
    maxMismatchRate: z.number().gt(0).max(1),
    /** How many of the latest runs are looked at. */
    window: z.number().int().min(10).max(5000).default(500),
    /** Runs needed before it may fire. */
    minRuns: z.number().int().min(1).default(50),
    severity: z.enum(["critical", "high", "medium", "low"]).default("medium"),
  })
  .strict();
export type ExperimentAlertSpec = z.output<typeof experimentAlertSpec>;

export const serverSpec = z
  .object({
    apiHost: z.string().default("127.0.0.1"),
    apiPort: port.default(7070),
    routerHost: z.string().default("127.0.0.1"),
    routerPort: port.default(8080),
    /** The router's admin port; always bound to 127.0.0.1. */
    routerAdminPort: port.default(7071),
  })
  .strict();

/** The whole of gantry.yaml. */
export const gantryConfig = z
  .object({
    server: serverSpec.default(serverSpec.parse({})),
    services: z.record(serviceName, serviceSpec).default({}),
    /** Release freezes: deploys are refused while one is in force (rollbacks never are). */
    freezes: z.array(freezeSpec).default([]),
    /** Feature flags: environments (and definitions that `gantry apply` syncs). */
    flags: flagsSpec.default(flagsSpec.parse({})),
    /** Service level objectives, by name (docs/slo.md). */
    slos: z.record(sloName, sloSpec).default({}),
    /** How SLI time series are sampled and kept. */
    sli: sliStorageSpec.default(sliStorageSpec.parse({})),
    /** Incidents: what goes on their timelines. */
    incidents: incidentsSpec.default(incidentsSpec.parse({})),
    /** Scientist experiments that raise an alert when their candidates disagree too often. */
    experiments: z.record(z.string().min(1).max(200), experimentAlertSpec).default({}),
    /** On call: people, notifiers, schedules, escalation policies and which incidents page whom. */
    oncall: oncallSpec.default(oncallSpec.parse({})),
  })
  .strict()
  .superRefine((config, ctx) => {
    const { retention } = config.sli;
    for (const [name, slo] of Object.entries(config.slos)) {
      const longest = Math.max(
        slo.window.type === "rolling" ? slo.window.duration : 0,
        ...slo.alerting.burnRates.map((r) => r.longWindow),
        ...slo.alerting.thresholds.map((r) => r.window),
      );
      if (longest > retention)
        ctx.addIssue({
          code: "custom",
          path: ["slos", name],
          message: `needs ${formatDuration(longest)} of SLI history but sli.retention keeps ${formatDuration(retention)}; raise sli.retention or shorten the window`,
        });
    }
  });

export type GantryConfig = z.output<typeof gantryConfig>;
export type ServerSpec = z.output<typeof serverSpec>;
