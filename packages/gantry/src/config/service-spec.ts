import { z } from "zod";
import { duration } from "./duration.ts";

/**
 * What a team declares about a service, in gantry.yaml or through the API. One schema,
 * used to validate both and to publish the JSON Schema for editors.
 */
export const serviceName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    "a service name is lower-case letters, digits and dashes, starting with a letter",
  );

export const versionName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._+-]{0,62}$/,
    "a version is letters, digits, '.', '_', '+' and '-' (e.g. v2 or 1.4.0)",
  );

export const envMap = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name is letters, digits and '_'"),
  z.string(),
);

export const healthCheckSpec = z
  .object({
    path: z.string().startsWith("/").default("/healthz"),
    interval: duration.default(1000),
    timeout: duration.default(2000),
    healthyThreshold: z.number().int().min(1).max(20).default(1),
    unhealthyThreshold: z.number().int().min(1).max(20).default(3),
    /** How long new instances may take to become healthy before the deploy fails. */
    deadline: duration.default(60_000),
  })
  .strict();

export const routeSpec = z
  .object({
    hosts: z.array(z.string().min(1).toLowerCase()).default([]),
    pathPrefix: z.string().startsWith("/").default("/"),
    default: z.boolean().default(false),
  })
  .strict();

export const smokeCheckSpec = z
  .object({
    path: z.string().startsWith("/"),
    expectStatus: z.number().int().min(100).max(599).default(200),
    expectBody: z.string().optional(),
    timeout: duration.default(5000),
  })
  .strict();

export const recreateStrategy = z.object({ type: z.literal("recreate") }).strict();

/** The service's mode while a rollout runs (e.g. read-only while a migration runs); normal again at the end. */
const during = z.enum(["normal", "read-only", "maintenance"]).default("normal");

export const rollingStrategy = z
  .object({
    type: z.literal("rolling"),
    during,
    /** Extra instances of the new version started before old ones leave (batch size). */
    maxSurge: z.number().int().min(0).default(1),
    /** Old instances that may leave rotation before their replacements are healthy. */
    maxUnavailable: z.number().int().min(0).default(0),
  })
  .strict()
  .refine((s) => s.maxSurge + s.maxUnavailable > 0, {
    message: "maxSurge and maxUnavailable cannot both be 0: the rollout could never make progress",
    path: ["maxSurge"],
  });

export const blueGreenStrategy = z
  .object({
    type: z.literal("blue-green"),
    during,
    /** How long the previous colour stays up, idle, so that a rollback is a switch. */
    idleFor: duration.default(600_000),
    smoke: z.array(smokeCheckSpec).default([]),
  })
  .strict();

export const httpUrl = z.url({ protocol: /^https?$/, error: "give an http:// or https:// URL" });

/**
 * A check of the analysis besides the router's figures: a PromQL query against bounds, an
 * HTTP probe of every candidate instance, a command (e.g. verification tests), or a webhook
 * that answers pass or fail. Each runs at the start of an analysis and every `interval`.
 */
export const customCheckSpec = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9-]{0,62}$/,
        "a check name is lower-case letters, digits and '-', e.g. p99-latency",
      ),
    interval: duration.default(5000),
    /** Failing results in a row that fail the rollout. */
    failureLimit: z.number().int().min(1).max(100).default(1),
    /** Results in a row that could not be had (server down, timeout) that fail the rollout. */
    errorLimit: z.number().int().min(1).max(100).default(3),
    timeout: duration.default(10_000),
    prometheus: z
      .object({
        /** The Prometheus server, e.g. http://127.0.0.1:9090. */
        url: httpUrl,
        /** PromQL giving one number; {{service}}, {{candidate}}, {{baseline}} are replaced. */
        query: z.string().min(1),
        min: z.number().optional(),
        max: z.number().optional(),
      })
      .strict()
      .refine((p) => p.min !== undefined || p.max !== undefined, {
        message: "a prometheus check needs min or max (the bounds the query's value must keep)",
      })
      .optional(),
    http: z
      .object({
        path: z.string().startsWith("/"),
        expectStatus: z.number().int().min(100).max(599).default(200),
        expectBody: z.string().optional(),
      })
      .strict()
      .optional(),
    /** A shell command run in Gantry's directory; exit 0 passes. Env: GANTRY_SERVICE, GANTRY_CANDIDATE, GANTRY_BASELINE, GANTRY_CANDIDATE_URLS. */
    command: z.string().min(1).optional(),
    /** CPU and memory of the candidate's instances, from the runtime: ceilings, and CPU against the baseline's. */
    resources: z
      .object({
        /** CPU per instance, in cores, measured over a second (e.g. 0.8). */
        maxCpu: z.number().gt(0).optional(),
        /** Resident memory per instance, in MiB. */
        maxMemoryMb: z.number().gt(0).optional(),
        /** The candidate's CPU per instance at most this many times the baseline's (e.g. 1.5). */
        maxCpuRatio: z.number().gt(0).optional(),
      })
      .strict()
      .refine((r) => r.maxCpu !== undefined || r.maxMemoryMb !== undefined || r.maxCpuRatio !== undefined, {
        message: "a resources check needs maxCpu, maxMemoryMb or maxCpuRatio",
      })
      .optional(),
    /** A Scientist experiment's results reported while the analysis runs (docs/scientist.md). */
    experiment: z
      .object({
        name: z.string().min(1).max(200),
        /** Fails once the share of mismatched runs is shown (sequentially) to be above this. */
        maxMismatchRate: z.number().min(0).max(1).default(0.01),
        /** Runs needed for a verdict. */
        minRuns: z.number().int().min(1).default(20),
      })
      .strict()
      .optional(),
    /** POSTed the rollout's facts as JSON; a 2xx passes unless it answers {"verdict": "fail"}. */
    webhook: z
      .object({ url: httpUrl, headers: z.record(z.string(), z.string()).default({}) })
      .strict()
      .optional(),
  })
  .strict()
  .refine(
    (c) =>
      [c.prometheus, c.http, c.command, c.webhook, c.resources, c.experiment].filter((k) => k !== undefined)
        .length === 1,
    { message: "a check has exactly one of prometheus, http, command, webhook, resources or experiment" },
  );
export type CustomCheckSpec = z.output<typeof customCheckSpec>;

/** How a canary is judged against the stable version (docs/analysis.md). */
export const analysisSpec = z
  .object({
    /** How often the judges look at the router's figures. */
    interval: duration.default(500),
    /** False-alarm rate of a whole analysis, however often it looks. */
    alpha: z.number().gt(0).max(0.2).default(0.01),
    /** Requests each version needs before a verdict. */
    minSamples: z.number().int().min(10).default(20),
    errorRate: z
      .object({
        /** A canary fails only when it is worse than stable by more than this (absolute rate: 0.005 = half a point). */
        minEffect: z.number().min(0).max(1).default(0.005),
        /** A ceiling: fails above this error rate whatever stable does. */
        max: z.number().gt(0).max(1).optional(),
      })
      .strict()
      .default({ minEffect: 0.005 }),
    latency: z
      .object({
        /** A canary fails only when P(a canary request is slower than a stable one) exceeds ½ by more than this. */
        minEffect: z.number().min(0).max(0.5).default(0.1),
        /** A ceiling on the canary's p99 (e.g. "300ms"). */
        maxP99: duration.optional(),
      })
      .strict()
      .default({ minEffect: 0.1 }),
    /** What an analysis without enough traffic for a verdict does at its end. */
    onInconclusive: z.enum(["fail", "continue"]).default("fail"),
    /** Checks beyond the router's figures: Prometheus queries, HTTP probes, commands, webhooks. */
    checks: z.array(customCheckSpec).max(20).default([]),
  })
  .strict()
  .superRefine((a, ctx) => {
    const seen = new Set<string>();
    a.checks.forEach((c, i) => {
      if (seen.has(c.name))
        ctx.addIssue({
          code: "custom",
          path: ["checks", i, "name"],
          message: `two checks are named ${c.name}`,
        });
      seen.add(c.name);
    });
  });
export type AnalysisSpec = z.output<typeof analysisSpec>;

export const canaryStep = z.union([
  z.object({ setWeight: z.number().min(0).max(100) }).strict(),
  /** Judge the canary against stable for this long; it fails as soon as the evidence is there. */
  z.object({ analysis: duration }).strict(),
  /** Wait this long, or until `gantry promote`. */
  z.object({ pause: z.union([z.literal("promote"), duration]) }).strict(),
]);
export type CanaryStep = z.output<typeof canaryStep>;

export const defaultCanarySteps: CanaryStep[] = [1, 5, 25, 50].flatMap((weight) => [
  { setWeight: weight },
  { analysis: 20_000 },
]);

/**
 * A canary by instance schedule: upgrade a number of instances, or one every interval until
 * a share of the fleet, each group verified before the next.
 */
export const scheduleStep = z.union([
  z
    .object({
      /** Upgrade this many instances in all (so far), then wait. */
      instances: z.number().int().min(1),
      wait: duration.default(0),
    })
    .strict(),
  z
    .object({
      /** Upgrade one instance every interval… */
      every: duration,
      /** …until this share of the fleet runs the canary (e.g. "10%", or 100%). */
      until: z.union([
        z.number().gt(0).max(100),
        z
          .string()
          .regex(/^(100|[1-9]?\d(\.\d+)?)%$/, 'until is a share of the fleet, e.g. "25%" or "100%"')
          .transform((t) => Number(t.slice(0, -1))),
      ]),
    })
    .strict(),
]);
export type ScheduleStep = z.output<typeof scheduleStep>;

export const canaryStrategy = z
  .object({
    type: z.literal("canary"),
    /** Traffic share steps with analyses and pauses; after the last, the canary takes all traffic. */
    steps: z.array(canaryStep).min(1).max(100).optional(),
    /** Instead of steps: instances upgraded on a schedule, traffic following the instances. */
    schedule: z.array(scheduleStep).min(1).max(100).optional(),
    /** Checks run against every upgraded instance before the next group (schedule only). */
    verify: z.array(smokeCheckSpec).default([]),
    analysis: analysisSpec.default(analysisSpec.parse({})),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.steps && s.schedule)
      ctx.addIssue({
        code: "custom",
        path: ["schedule"],
        message: "a canary follows either steps (traffic weights) or a schedule (instances), not both",
      });
    if (!s.schedule && s.verify.length > 0)
      ctx.addIssue({
        code: "custom",
        path: ["verify"],
        message: "verify runs against upgraded instances: it needs a schedule (for steps, use analysis)",
      });
    let weight = 0;
    (s.steps ?? []).forEach((step, i) => {
      if ("setWeight" in step) weight = step.setWeight;
      else if ("analysis" in step && weight === 0)
        ctx.addIssue({
          code: "custom",
          path: ["steps", i, "analysis"],
          message: "an analysis needs canary traffic to judge: put a setWeight above 0 before it",
        });
    });
  })
  .transform((s) => (s.schedule ? s : { ...s, steps: s.steps ?? defaultCanarySteps }));

/**
 * Proportional shedding: the new cluster starts beside the old one with as many instances,
 * takes a growing share of traffic, each share held (and judged) for `every`; the old
 * cluster keeps running until the new one has all traffic.
 */
export const sheddingStrategy = z
  .object({
    type: z.literal("shedding"),
    /** Shares of traffic moved to the new cluster, in order (percent); then 100. */
    shares: z.array(z.number().gt(0).lt(100)).min(1).max(50).default([10, 25, 50, 75]),
    /** How long each share is held. */
    every: duration.default(60_000),
    /** Judge the new cluster against the old while each share is held. */
    judge: z.boolean().default(true),
    analysis: analysisSpec.default(analysisSpec.parse({})),
  })
  .strict()
  .superRefine((s, ctx) => {
    s.shares.forEach((share, i) => {
      if (i > 0 && share <= s.shares[i - 1]!)
        ctx.addIssue({
          code: "custom",
          path: ["shares", i],
          message: `shares grow step by step: ${share} follows ${s.shares[i - 1]}`,
        });
    });
  });

const oneOrMore = z.union([z.string(), z.array(z.string()).min(1)]);
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "a header name is letters, digits and - (e.g. x-user-id)");

/** Who belongs to a phase's group: any of these makes a request a member. */
export const cohortMatch = z
  .object({
    /** Header name → value (or values), e.g. {x-staff: "1"}. */
    header: z.record(headerName, oneOrMore).optional(),
    /** Cookie name → value (or values), e.g. {beta: "yes"}. */
    cookie: z.record(z.string().min(1), oneOrMore).optional(),
    /** User keys (as read by userKey), e.g. a beta list. */
    users: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .refine((m) => m.header || m.cookie || m.users, {
    message: 'a match needs header, cookie or users, e.g. {header: {x-staff: "1"}}',
  });

export const phase = z
  .object({
    /** Shown in status and the audit trail; defaults to the group or the percentage. */
    name: z.string().min(1).max(100).optional(),
    /** A group that gets the candidate from this phase on. */
    match: cohortMatch.optional(),
    /** From this phase on, this share of all users (by a sticky hash of their key) gets the candidate. */
    percent: z.number().gt(0).max(100).optional(),
    /** Judge the candidate against stable for this long once the phase's users have it. */
    analysis: duration.optional(),
    /** Then wait this long, or until `gantry promote`. */
    pause: z.union([z.literal("promote"), duration]).optional(),
  })
  .strict()
  .refine((p) => (p.match === undefined) !== (p.percent === undefined), {
    message: "a phase adds either a group (match) or a percentage of users (percent), not both or neither",
  });
export type Phase = z.output<typeof phase>;

export const phasedStrategy = z
  .object({
    type: z.literal("phased"),
    /** Where a user's key is read for sticky percentages and `users` lists: a header, else a cookie. */
    userKey: z
      .object({ header: headerName.optional(), cookie: z.string().min(1).optional() })
      .strict()
      .refine((k) => k.header || k.cookie, { message: "userKey needs a header or a cookie (or both)" })
      .default({ header: "x-user-id" }),
    /** Groups in order of risk tolerance; after the last phase, everyone gets the candidate. */
    phases: z.array(phase).min(1).max(50),
    analysis: analysisSpec.default(analysisSpec.parse({})),
  })
  .strict()
  .superRefine((s, ctx) => {
    let percent = 0;
    s.phases.forEach((p, i) => {
      if (p.percent === undefined) return;
      if (p.percent < percent)
        ctx.addIssue({
          code: "custom",
          path: ["phases", i, "percent"],
          message: `percentages only grow (a user who had the candidate keeps it): ${p.percent} follows ${percent}`,
        });
      percent = p.percent;
    });
  });

/**
 * Shadow traffic, then a switch: the candidate starts beside stable, the router copies a
 * share of requests to it and compares its answers with stable's (users only ever get
 * stable's), and if the mismatch rate stays under its ceiling the candidate takes all
 * traffic at once (`after: switch`), or stops again (`after: stop`, a dark launch only).
 */
export const shadowStrategy = z
  .object({
    type: z.literal("shadow"),
    /** How long answers are compared. */
    for: duration.default(60_000),
    /** Share of eligible requests copied to the candidate, in percent. */
    share: z.number().gt(0).max(100).default(100),
    /** Methods copied; writes only if the application tells shadow requests (X-Gantry-Shadow: 1) apart. */
    methods: z
      .array(z.enum(["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]))
      .min(1)
      .default(["GET", "HEAD", "OPTIONS"]),
    /** JSON fields left out of the comparison: "version", "meta.requestId", "items.*.id". */
    ignore: z.array(z.string().min(1)).default([]),
    /** The rollout fails when the share of mismatched answers is above this (sequentially tested). */
    maxMismatchRate: z.number().min(0).max(1).default(0.01),
    /** Also fails when the candidate is slower on average by more than this. */
    maxLatencyIncrease: duration.optional(),
    /** Compared answers needed for a verdict. */
    minCompared: z.number().int().min(1).default(50),
    maxConcurrent: z.number().int().min(1).max(10_000).default(32),
    maxBodyBytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    timeout: duration.default(10_000),
    after: z.enum(["switch", "stop"]).default("switch"),
  })
  .strict();

export const strategySpec = z.discriminatedUnion("type", [
  recreateStrategy,
  rollingStrategy,
  blueGreenStrategy,
  canaryStrategy,
  phasedStrategy,
  sheddingStrategy,
  shadowStrategy,
]);
export type StrategySpec = z.output<typeof strategySpec>;
export type StrategyType = StrategySpec["type"];
export const strategyTypes = [
  "recreate",
  "rolling",
  "blue-green",
  "canary",
  "phased",
  "shedding",
  "shadow",
] as const;

export const maintenanceSpec = z
  .object({
    retryAfter: duration.default(5000),
    contentType: z.string().default("text/html; charset=utf-8"),
    /** The page's body; the default says a deploy is under way. */
    body: z.string().optional(),
  })
  .strict();

export const readOnlySpec = z
  .object({
    /** Path prefixes that stay writable in read-only mode, e.g. /login. */
    allowPaths: z.array(z.string().startsWith("/")).default([]),
    retryAfter: duration.default(60_000),
  })
  .strict();

export const breakerSpec = z
  .object({
    /** Share of failed requests (5xx or no answer) over the window that opens it; 0 turns it off. */
    errorRate: z.number().min(0).max(1).default(0),
    minRequests: z.number().int().min(1).default(20),
    window: duration.default(10_000),
    /** Failures in a row that open it; 0 turns it off. */
    consecutiveFailures: z.number().int().min(0).default(0),
    cooldown: duration.default(10_000),
    halfOpenRequests: z.number().int().min(1).max(1000).default(3),
  })
  .strict();

export const fallbackSpec = z
  .object({
    /** A degraded copy to send traffic to when no instance can serve or the breaker is open. */
    url: z.url({
      protocol: /^http$/,
      error: "fallback.url must be an http:// URL, e.g. http://127.0.0.1:9000",
    }),
  })
  .strict();

export const serviceSpec = z
  .object({
    /** Shell command run in the release directory; it must listen on $PORT. */
    command: z.string().min(1),
    instances: z.number().int().min(1).max(64).default(1),
    healthCheck: healthCheckSpec.default(healthCheckSpec.parse({})),
    route: routeSpec.default(routeSpec.parse({})),
    env: envMap.default({}),
    stopTimeout: duration.default(10_000),
    strategy: strategySpec.default({ type: "rolling", during: "normal", maxSurge: 1, maxUnavailable: 0 }),
    maintenance: maintenanceSpec.default(maintenanceSpec.parse({})),
    readOnly: readOnlySpec.default(readOnlySpec.parse({})),
    breaker: breakerSpec.default(breakerSpec.parse({})),
    fallback: fallbackSpec.optional(),
    /** Deploys wait for a second person's `gantry approve`. */
    requireApproval: z.boolean().default(false),
    /**
     * A candidate rolled back by a failed analysis or check keeps its instances this long,
     * without traffic, for debugging (logs, `gantry pin`); 0 stops them at once.
     */
    keepFailed: duration.default(0),
  })
  .strict();

export type ServiceSpec = z.output<typeof serviceSpec>;
export type ServiceSpecInput = z.input<typeof serviceSpec>;
export type HealthCheckSpec = z.output<typeof healthCheckSpec>;
export type SmokeCheckSpec = z.output<typeof smokeCheckSpec>;
export type BreakerSpec = z.output<typeof breakerSpec>;
