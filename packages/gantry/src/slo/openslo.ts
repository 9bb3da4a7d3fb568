import { parseAllDocuments } from "yaml";
import { z } from "zod";
import {
  describeIssues,
  parseDuration,
  type SloSpec,
  type SloSpecInput,
  sloName,
  sloSpec,
} from "../config/index.ts";
import { GantryError } from "../errors/index.ts";
import { counterQuery } from "../prometheus/index.ts";

/** What an import may be told besides the file. */
export interface OpenSloImportOptions {
  /** The Prometheus server of metric sources that name none (no spec.url, no DataSource URL). */
  prometheusUrl?: string | undefined;
}

/**
 * OpenSLO v1 (kinds SLO, SLI, AlertPolicy, AlertCondition and DataSource) read into Gantry
 * SLOs. A metric source is `type: Gantry` (the router's figures) or `type: Prometheus` (a
 * ratio of counters, read as in gantry.yaml's `sli: {type: ratio, prometheus}`); what Gantry
 * cannot honour (time-slice budgeting, several objectives, other metric sources) is refused
 * with the field and the fix rather than approximated. See docs/integrations.md#openslo.
 */
export function importOpenSlo(
  text: string,
  options: OpenSloImportOptions = {},
): { name: string; spec: SloSpec }[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const objects: OpenSloObject[] = [];
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    if (doc.errors.length > 0)
      fail(`document ${i + 1} is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`, `[${i}]`);
    const raw = doc.toJS();
    if (raw === null || raw === undefined) continue;
    const parsed = openSloObject.safeParse(raw);
    if (!parsed.success)
      fail(`document ${i + 1}:\n  ${describeIssues(parsed.error, raw).join("\n  ")}`, `[${i}]`);
    objects.push(parsed.data);
  }
  const byKind = (kind: string) =>
    new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o]));
  const slis = byKind("SLI");
  const policies = byKind("AlertPolicy");
  const conditions = byKind("AlertCondition");
  const dataSources = byKind("DataSource");
  const slos = objects.filter((o) => o.kind === "SLO");
  if (slos.length === 0)
    fail(
      "the file has no object of kind SLO; Gantry imports SLOs (with their SLIs and AlertPolicies)",
      "kind",
    );
  return slos.map((slo) => {
    const where = `SLO ${slo.metadata.name}`;
    const name = sloName.safeParse(slo.metadata.name);
    if (!name.success) fail(`${where}: metadata.name: ${name.error.issues[0]!.message}`, "metadata.name");
    const input = toGantry(slo, { slis, policies, conditions, dataSources, options }, where);
    const result = sloSpec.safeParse(input);
    if (!result.success) fail(`${where}:\n  ${describeIssues(result.error, input).join("\n  ")}`, where);
    return { name: slo.metadata.name, spec: result.data };
  });
}

const metadata = z.object({ name: z.string().min(1), displayName: z.string().optional() }).passthrough();
const openSloObject = z
  .object({
    apiVersion: z.literal("openslo/v1", { error: 'Gantry reads OpenSLO apiVersion "openslo/v1"' }),
    kind: z.enum([
      "SLO",
      "SLI",
      "AlertPolicy",
      "AlertCondition",
      "Service",
      "DataSource",
      "AlertNotificationTarget",
    ]),
    metadata,
    spec: z.record(z.string(), z.unknown()),
  })
  .passthrough();
type OpenSloObject = z.output<typeof openSloObject>;

interface Refs {
  slis: Map<string, OpenSloObject>;
  policies: Map<string, OpenSloObject>;
  conditions: Map<string, OpenSloObject>;
  dataSources: Map<string, OpenSloObject>;
  options: OpenSloImportOptions;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};

function toGantry(slo: OpenSloObject, refs: Refs, where: string): SloSpecInput {
  const spec = slo.spec;
  const method = spec.budgetingMethod ?? "Occurrences";
  if (method !== "Occurrences")
    fail(
      `${where}: spec.budgetingMethod ${JSON.stringify(method)}: Gantry budgets by occurrences (good events over all events); write budgetingMethod: Occurrences`,
      "spec.budgetingMethod",
    );
  const objectives = Array.isArray(spec.objectives) ? spec.objectives.map(obj) : [];
  if (objectives.length !== 1)
    fail(
      `${where}: spec.objectives has ${objectives.length} objectives; a Gantry SLO has exactly one: split it into one SLO per objective`,
      "spec.objectives",
    );
  const objective = objectives[0]!;
  const target =
    typeof objective.target === "number"
      ? objective.target
      : typeof objective.targetPercent === "number"
        ? objective.targetPercent / 100
        : fail(
            `${where}: spec.objectives[0] needs target (e.g. 0.999) or targetPercent (e.g. 99.9)`,
            "spec.objectives[0].target",
          );
  const indicator = resolveIndicator(spec, refs, where);
  return {
    service:
      typeof spec.service === "string"
        ? spec.service
        : fail(`${where}: spec.service is required`, "spec.service"),
    ...(typeof spec.description === "string" && { description: spec.description.slice(0, 500) }),
    sli: sli(indicator, objective, refs, where),
    objective: target,
    window: timeWindow(spec.timeWindow, where),
    alerting: { burnRates: alertRules(spec.alertPolicies, refs, where) },
  };
}

function resolveIndicator(spec: Json, refs: Refs, where: string): Json {
  if (typeof spec.indicatorRef === "string") {
    const found = refs.slis.get(spec.indicatorRef);
    if (!found)
      fail(
        `${where}: spec.indicatorRef ${JSON.stringify(spec.indicatorRef)} names no SLI in the file`,
        "spec.indicatorRef",
      );
    return found.spec;
  }
  const inline = obj(spec.indicator);
  if (Object.keys(inline).length === 0)
    fail(`${where}: give spec.indicator (inline SLI) or spec.indicatorRef`, "spec.indicator");
  return obj(inline.spec);
}

/** A metric source's type, from `type` or the DataSource its `metricSourceRef` names. */
function sourceType(source: unknown, refs: Refs): string {
  const ms = obj(obj(source).metricSource);
  const ref = typeof ms.metricSourceRef === "string" ? refs.dataSources.get(ms.metricSourceRef) : undefined;
  return String(ms.type ?? ref?.spec.type ?? ms.metricSourceRef ?? "");
}

/** The Gantry metric a metric source names: `{type: Gantry, spec: {metric, threshold?, version?}}`. */
function gantryMetric(source: unknown, refs: Refs, where: string, field: string): Json {
  const type = sourceType(source, refs);
  if (type.toLowerCase() !== "gantry")
    fail(
      `${where}: ${field}.metricSource.type ${JSON.stringify(type || "(none)")}: Gantry reads SLIs from its own router (type: Gantry with spec.metric: requests, errors, good-requests or latency) or from Prometheus counters (type: Prometheus in a ratioMetric)`,
      `${field}.metricSource.type`,
    );
  return obj(obj(obj(source).metricSource).spec);
}

const isPrometheus = (source: unknown, refs: Refs) => sourceType(source, refs).toLowerCase() === "prometheus";

/** A ratioMetric of Prometheus counters: `{type: Prometheus, spec: {query}}` for good (or bad) and total. */
function prometheusSli(ratio: Json, refs: Refs, where: string): SloSpecInput["sli"] {
  if (ratio.counter === false)
    fail(
      `${where}: ratioMetric.counter is false: Gantry reads Prometheus counters and takes their increase itself; write counter: true with queries of counters (a series selector, or sum() of one)`,
      "ratioMetric.counter",
    );
  if (ratio.good !== undefined && ratio.bad !== undefined)
    fail(`${where}: ratioMetric has both good and bad; give one of them beside total`, "ratioMetric.good");
  const part = ratio.good !== undefined ? "good" : "bad";
  if (ratio[part] === undefined || ratio.total === undefined)
    fail(`${where}: ratioMetric needs good (or bad) and total`, "ratioMetric.total");
  const read = (key: "good" | "bad" | "total") => {
    const field = `ratioMetric.${key}.metricSource`;
    if (!isPrometheus(ratio[key], refs))
      fail(
        `${where}: ${field}.type ${JSON.stringify(sourceType(ratio[key], refs) || "(none)")}: good (or bad) and total must all come from Prometheus`,
        `${field}.type`,
      );
    const ms = obj(obj(ratio[key]).metricSource);
    const spec = obj(ms.spec);
    const query = spec.query ?? spec.promql;
    if (typeof query !== "string" || query.trim() === "")
      fail(`${where}: ${field}.spec.query is required: the PromQL of a counter`, `${field}.spec.query`);
    const parsed = counterQuery(query);
    if ("error" in parsed)
      fail(`${where}: ${field}.spec.query ${JSON.stringify(query)}: ${parsed.error}`, `${field}.spec.query`);
    const ref = typeof ms.metricSourceRef === "string" ? refs.dataSources.get(ms.metricSourceRef) : undefined;
    const url = spec.url ?? dataSourceUrl(ref) ?? refs.options.prometheusUrl;
    if (typeof url !== "string")
      fail(
        `${where}: ${field} names no Prometheus URL: give spec.url, a metricSourceRef to a DataSource with connectionDetails.url, or import with --prometheus-url URL`,
        `${field}.spec.url`,
      );
    return { query, url };
  };
  const counted = read(part);
  const total = read("total");
  if (counted.url !== total.url)
    fail(
      `${where}: ratioMetric.${part} reads ${counted.url} but total reads ${total.url}; both must come from one Prometheus`,
      "ratioMetric.total.metricSource",
    );
  return { type: "ratio", prometheus: { url: total.url, [part]: counted.query, total: total.query } };
}

/** `connectionDetails: {url}` or `[{url}]` of a DataSource. */
function dataSourceUrl(source: OpenSloObject | undefined): string | undefined {
  const details = source?.spec.connectionDetails;
  const list = Array.isArray(details) ? details.map(obj) : [obj(details)];
  const url = list.find((d) => typeof d.url === "string")?.url;
  return typeof url === "string" ? url : undefined;
}

function sli(indicator: Json, objective: Json, refs: Refs, where: string): SloSpecInput["sli"] {
  const version = (m: Json) => (typeof m.version === "string" ? { version: m.version } : {});
  if (indicator.thresholdMetric) {
    if (isPrometheus(indicator.thresholdMetric, refs))
      fail(
        `${where}: a thresholdMetric from Prometheus is not read: Gantry reads Prometheus SLIs as a ratioMetric of counters (good or bad, and total)`,
        "thresholdMetric.metricSource.type",
      );
    const m = gantryMetric(indicator.thresholdMetric, refs, where, "indicator.spec.thresholdMetric");
    if (m.metric !== "latency")
      fail(
        `${where}: a thresholdMetric must be spec.metric: latency (the objective's value is a latency in ms)`,
        "thresholdMetric.metricSource.spec.metric",
      );
    if (objective.op !== "lt" && objective.op !== "lte")
      fail(
        `${where}: spec.objectives[0].op ${JSON.stringify(objective.op)}: a latency objective counts requests under its value; write op: lte`,
        "spec.objectives[0].op",
      );
    if (typeof objective.value !== "number")
      fail(
        `${where}: spec.objectives[0].value must be the latency threshold in ms, e.g. 250`,
        "spec.objectives[0].value",
      );
    return { type: "latency", threshold: objective.value, ...version(m) };
  }
  const ratio = obj(indicator.ratioMetric);
  if (Object.keys(ratio).length === 0)
    fail(`${where}: the SLI needs ratioMetric or thresholdMetric`, "indicator.spec");
  if (ratio.raw)
    fail(`${where}: ratioMetric.raw is not supported; give good (or bad) and total`, "ratioMetric.raw");
  if ([ratio.good, ratio.bad, ratio.total].some((m) => m !== undefined && isPrometheus(m, refs)))
    return prometheusSli(ratio, refs, where);
  const total = gantryMetric(ratio.total, refs, where, "ratioMetric.total");
  if (total.metric !== "requests")
    fail(`${where}: ratioMetric.total must be spec.metric: requests`, "ratioMetric.total");
  if (ratio.bad) {
    const bad = gantryMetric(ratio.bad, refs, where, "ratioMetric.bad");
    if (bad.metric !== "errors")
      fail(`${where}: ratioMetric.bad must be spec.metric: errors (5xx answers)`, "ratioMetric.bad");
    return { type: "availability", ...version(bad) };
  }
  const good = gantryMetric(ratio.good, refs, where, "ratioMetric.good");
  if (good.metric === "good-requests") return { type: "availability", ...version(good) };
  if (good.metric === "latency" && (typeof good.threshold === "string" || typeof good.threshold === "number"))
    return { type: "latency", threshold: good.threshold, ...version(good) };
  return fail(
    `${where}: ratioMetric.good must be spec.metric: good-requests (not 5xx), or latency with a threshold such as 250ms`,
    "ratioMetric.good",
  );
}

const calendarUnits: Record<string, string> = { d: "day", w: "week", M: "month", Q: "quarter", Y: "year" };

function timeWindow(value: unknown, where: string): SloSpecInput["window"] {
  const windows = Array.isArray(value) ? value.map(obj) : [];
  if (windows.length === 0) return "28d";
  if (windows.length > 1)
    fail(`${where}: spec.timeWindow has ${windows.length} windows; give one`, "spec.timeWindow");
  const w = windows[0]!;
  const text = String(w.duration ?? "");
  if (w.isRolling === false) {
    const match = /^1([dwMQY])$/.exec(text);
    if (!match)
      fail(
        `${where}: spec.timeWindow[0].duration ${JSON.stringify(text)}: a calendar window is one 1d, 1w, 1M, 1Q or 1Y`,
        "spec.timeWindow[0].duration",
      );
    const calendar = obj(w.calendar);
    const start =
      typeof calendar.startTime === "string" ? new Date(calendar.startTime.replace(" ", "T")) : undefined;
    const weekStart =
      start && !Number.isNaN(start.getTime())
        ? (["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const)[start.getUTCDay()]
        : undefined;
    return {
      calendar: calendarUnits[match[1]!] as "month",
      timeZone: typeof calendar.timeZone === "string" ? calendar.timeZone : "UTC",
      ...(match[1] === "w" && weekStart && { weekStart }),
    };
  }
  const days = /^(\d+)([dw])$/.exec(text);
  const ms = days ? Number(days[1]) * (days[2] === "w" ? 7 : 1) * 86_400_000 : parseDuration(text);
  if (!ms)
    fail(
      `${where}: spec.timeWindow[0].duration ${JSON.stringify(text)} is not a duration such as 28d or 4w`,
      "spec.timeWindow[0].duration",
    );
  return ms;
}

const severities: Record<string, "page" | "ticket"> = {
  page: "page",
  critical: "page",
  high: "page",
  sev1: "page",
  p1: "page",
  ticket: "ticket",
  warning: "ticket",
  medium: "ticket",
  low: "ticket",
  info: "ticket",
  sev2: "ticket",
  sev3: "ticket",
  p2: "ticket",
  p3: "ticket",
};

function alertRules(value: unknown, refs: Refs, where: string) {
  const entries = Array.isArray(value) ? value : [];
  if (entries.length === 0) return "workbook" as const;
  const rules = [];
  for (const [i, entry] of entries.entries()) {
    const ref = typeof entry === "string" ? entry : obj(entry).alertPolicyRef;
    const policy = typeof ref === "string" ? refs.policies.get(ref)?.spec : obj(obj(entry).spec);
    if (!policy)
      fail(
        `${where}: spec.alertPolicies[${i}] names ${JSON.stringify(ref)}, which is no AlertPolicy in the file`,
        `spec.alertPolicies[${i}]`,
      );
    const conditions = Array.isArray(policy.conditions) ? policy.conditions : [];
    for (const [j, c] of conditions.entries()) {
      const cref = obj(c).conditionRef;
      const condition = typeof cref === "string" ? refs.conditions.get(cref)?.spec : obj(obj(c).spec);
      const field = `spec.alertPolicies[${i}].conditions[${j}]`;
      if (!condition)
        fail(
          `${where}: ${field} names ${JSON.stringify(cref)}, which is no AlertCondition in the file`,
          field,
        );
      const cond = obj(condition.condition);
      if ((cond.kind ?? "burnrate") !== "burnrate")
        fail(
          `${where}: ${field}: condition kind ${JSON.stringify(cond.kind)}; Gantry reads kind burnrate`,
          field,
        );
      const severity = severities[String(condition.severity ?? "").toLowerCase()];
      if (!severity)
        fail(
          `${where}: ${field}.severity ${JSON.stringify(condition.severity)}: write page (or critical, high, sev1, p1) or ticket (or warning, medium, low, info, sev2, sev3, p2, p3)`,
          `${field}.severity`,
        );
      const lookback = String(cond.lookbackWindow ?? "").replace(/^-/, "");
      if (!parseDuration(lookback))
        fail(
          `${where}: ${field}.condition.lookbackWindow ${JSON.stringify(cond.lookbackWindow)} is not a duration such as 1h`,
          `${field}.condition.lookbackWindow`,
        );
      if (typeof cond.threshold !== "number")
        fail(
          `${where}: ${field}.condition.threshold must be a burn rate such as 14.4`,
          `${field}.condition.threshold`,
        );
      rules.push({
        severity,
        longWindow: lookback,
        burnRate: cond.threshold,
        ...(cond.alertAfter !== undefined && { for: String(cond.alertAfter) }),
      });
    }
  }
  return rules;
}

function fail(message: string, field: string): never {
  throw new GantryError("BAD_REQUEST", `OpenSLO: ${message}`, { field });
}
