import type { Flag, FlagSet } from "@gantry/sdk";
import type { AuditEvent } from "../../audit/index.ts";
import { GantryError } from "../../errors/index.ts";
import type { FieldChange, FlagLifecycle, ScheduledChange, StaleFlag } from "../../flags/index.ts";
import type { ApiClient } from "../api-client.ts";
import { formatClause, formatServe } from "../flag-syntax.ts";
import { ago, printJson, table } from "../render.ts";
import { type FlagView, path, requireEnv } from "./flags-common.ts";

/** The read-only flags actions: list, get, history, stale, eval, export. */
type Values = Record<string, unknown>;

export async function list(client: ApiClient, values: Values): Promise<number> {
  const result = await client.request<{
    environments: { name: string; protected: boolean; revision: number }[];
    flags: (FlagView & { lifecycle: FlagLifecycle })[];
  }>("GET", "/api/v1/flags");
  if (values.json) {
    printJson(result);
    return 0;
  }
  const envs = result.environments.filter((e) => values.env === undefined || e.name === values.env);
  const rows = result.flags.map((f) => [
    f.key,
    f.type,
    ...envs.map((e) => envSummary(f, e.name)),
    ago(f.lifecycle.lastEvaluatedAt),
  ]);
  process.stdout.write(
    `${table(["FLAG", "TYPE", ...envs.map((e) => e.name.toUpperCase()), "LAST EVALUATED"], rows)}\n`,
  );
  return 0;
}

export function envSummary(f: Flag, environment: string): string {
  const env = f.environments[environment];
  if (!env) return "-";
  if (!env.enabled) return `off→${env.offVariant ?? f.defaultVariant}`;
  const rules = env.rules.length > 0 ? ` +${env.rules.length} rule${env.rules.length > 1 ? "s" : ""}` : "";
  return `on→${formatServe(env.fallthrough ?? { variant: f.defaultVariant })}${rules}`;
}

export async function get(client: ApiClient, values: Values, flagKey: string): Promise<number> {
  const result = await client.request<{ flag: FlagView; lifecycle: FlagLifecycle }>(
    "GET",
    `/api/v1/flags/${path(flagKey)}`,
  );
  const { schedules } = await client.request<{ schedules: ScheduledChange[] }>(
    "GET",
    `/api/v1/flag-schedules?status=pending&flag=${encodeURIComponent(flagKey)}`,
  );
  if (values.json) {
    printJson({ ...result, schedules });
    return 0;
  }
  const f = result.flag;
  const lines = [
    `${f.key} (${f.type})${f.description ? `: ${f.description}` : ""}`,
    `  variants: ${Object.entries(f.variants)
      .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
      .join("  ")}   default: ${f.defaultVariant}`,
    `  version ${f.version}, created ${f.createdAt} by ${f.createdBy}, changed ${f.updatedAt} by ${f.updatedBy}`,
  ];
  for (const [name, env] of Object.entries(f.environments)) {
    if (values.env !== undefined && values.env !== name) continue;
    lines.push("", `${name}: ${env.enabled ? "ON" : `OFF (serving ${env.offVariant ?? f.defaultVariant})`}`);
    for (const p of env.prerequisites) lines.push(`  requires ${p.flagKey} = ${p.variant}`);
    env.rules.forEach((r, i) => {
      lines.push(
        `  ${i + 1}. if ${r.clauses.map(formatClause).join(" and ")} → ${formatServe(r)}${r.description ? `   # ${r.description}` : ""}`,
      );
    });
    lines.push(`  otherwise → ${formatServe(env.fallthrough ?? { variant: f.defaultVariant })}`);
    const served = result.lifecycle.served[name];
    if (served)
      lines.push(
        `  served: ${Object.entries(served)
          .map(([v, s]) => `${v} ×${s.count} (last ${ago(s.lastAt)})`)
          .join(", ")}`,
      );
  }
  lines.push("", `last evaluated: ${result.lifecycle.lastEvaluatedAt ?? "never"}`);
  for (const s of schedules)
    lines.push(
      `scheduled #${s.id}: ${s.at} in ${s.environment}: ${JSON.stringify(s.change)}${s.reason ? ` (${s.reason})` : ""}`,
    );
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

export async function history(client: ApiClient, values: Values, flagKey: string): Promise<number> {
  const { events } = await client.request<{ events: AuditEvent[] }>(
    "GET",
    `/api/v1/flags/${path(flagKey)}/history`,
  );
  const shown = events.filter((e) => {
    if (values.env === undefined) return true;
    const envs = (e.data.environments as string[] | undefined) ?? [];
    const schedule = e.data.schedule as { environment?: string } | undefined;
    return envs.includes(values.env as string) || schedule?.environment === values.env;
  });
  if (values.json) {
    printJson({ events: shown });
    return 0;
  }
  const lines: string[] = [];
  for (const e of shown) {
    const envs = (e.data.environments as string[] | undefined)?.join(",") || "";
    lines.push(
      `${e.at}  ${e.action}  by ${e.actor}${envs ? `  [${envs}]` : ""}${e.reason ? `  — ${e.reason}` : ""}`,
    );
    for (const c of (e.data.changes as FieldChange[] | undefined) ?? []) lines.push(`    ${describe(c)}`);
    const schedule = e.data.schedule as ScheduledChange | undefined;
    if (schedule)
      lines.push(
        `    #${schedule.id} at ${schedule.at} in ${schedule.environment}: ${JSON.stringify(schedule.change)}`,
      );
  }
  process.stdout.write(lines.length ? `${lines.join("\n")}\n` : `no changes of ${flagKey}\n`);
  return 0;
}

function describe(c: FieldChange): string {
  const show = (v: unknown) => (v === undefined ? "(none)" : JSON.stringify(v));
  return `${c.path}: ${show(c.before)} → ${show(c.after)}`;
}

export async function stale(client: ApiClient, values: Values): Promise<number> {
  const days = values.days === undefined ? 30 : Number(values.days);
  if (!Number.isInteger(days) || days < 1)
    throw new GantryError("BAD_REQUEST", `--days ${values.days} is not a whole number of days (e.g. 30)`, {
      field: "days",
    });
  const result = await client.request<{ days: number; stale: StaleFlag[] }>(
    "GET",
    `/api/v1/flag-reports/stale?days=${days}`,
  );
  if (values.json) printJson(result);
  else if (result.stale.length === 0) process.stdout.write(`no stale flags (window ${days} days)\n`);
  else
    process.stdout.write(
      `${table(
        ["FLAG", "WHY", "LAST EVALUATED"],
        result.stale.map((s) => [s.flagKey, s.detail, ago(s.lastEvaluatedAt)]),
      )}\n`,
    );
  return 0;
}

export async function evaluate(client: ApiClient, values: Values, flagKey: string): Promise<number> {
  const environment = requireEnv(values, "evaluate a flag");
  let context: unknown = {};
  if (typeof values.context === "string") {
    try {
      context = JSON.parse(values.context);
    } catch {
      throw new GantryError(
        "BAD_REQUEST",
        `--context ${values.context} is not JSON; e.g. --context '{"targetingKey":"u1","country":"DK"}'`,
        {
          field: "context",
        },
      );
    }
  }
  const { result } = await client.request<{ result: Record<string, unknown> }>(
    "POST",
    `/api/v1/flags/${path(flagKey)}/evaluate`,
    {
      environment,
      context,
    },
  );
  if (values.json) printJson({ result });
  else
    process.stdout.write(
      `${JSON.stringify(result.value)} (variant ${result.variant}, ${result.reason}${result.errorCode ? `: ${result.errorCode} ${result.errorMessage}` : ""})\n`,
    );
  return 0;
}

export async function exportSet(client: ApiClient, values: Values): Promise<number> {
  const { flagSet } = await client.request<{ flagSet: FlagSet }>("GET", "/api/v1/flag-set");
  const slim = withoutDefaults(flagSet);
  if (values.json) printJson(slim);
  else {
    const { stringify } = await import("yaml");
    process.stdout.write(
      `# gantry flags export; sync it back with: gantry apply -f flags.yaml\n${stringify(slim)}`,
    );
  }
  return 0;
}

const dropEmpty = (o: Record<string, unknown>, ...keys: string[]) =>
  Object.fromEntries(
    Object.entries(o).filter(
      ([k, v]) => !keys.includes(k) || !(v === "" || (Array.isArray(v) && v.length === 0)),
    ),
  );

/** The set without what the format fills in anyway (empty lists and descriptions), for a readable file. */
export function withoutDefaults(set: FlagSet): Record<string, unknown> {
  const flags = Object.fromEntries(
    Object.entries(set.flags).map(([k, f]) => [
      k,
      {
        ...dropEmpty(f, "description"),
        environments: Object.fromEntries(
          Object.entries(f.environments).map(([e, env]) => [e, dropEmpty(env, "prerequisites", "rules")]),
        ),
      },
    ]),
  );
  const segments = Object.fromEntries(
    Object.entries(set.segments).map(([k, s]) => [
      k,
      dropEmpty(s, "description", "rules", "included", "excluded"),
    ]),
  );
  const plans = Object.fromEntries(
    Object.entries(set.plans).map(([k, p]) => [k, dropEmpty(p, "description")]),
  );
  return {
    ...(set.planAttribute !== "plan" && { planAttribute: set.planAttribute }),
    flags,
    ...(Object.keys(segments).length > 0 && { segments }),
    ...(Object.keys(plans).length > 0 && { plans }),
  };
}
