import type { Rule, Segment } from "@gantry/sdk";
import { GantryError } from "../../errors/index.ts";
import type { ApiClient } from "../api-client.ts";
import { formatClause, formatServe, parseClause } from "../flag-syntax.ts";
import { printJson, table } from "../render.ts";
import {
  editEnvironment,
  type FlagView,
  flagsUsage,
  getFlag,
  path,
  reasonOf,
  requireEnv,
  serveFrom,
} from "./flags-common.ts";

type Values = Record<string, unknown>;

function need(rest: string[], index: number, name: string): string {
  const value = rest[index];
  if (value === undefined)
    throw new GantryError("BAD_REQUEST", `missing ${name}\nusage: ${flagsUsage}`, { field: name });
  return value;
}

/** A 1-based rule number as given on the command line, checked against the rules there are. */
function ruleNumber(text: string, count: number, field: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > count)
    throw new GantryError(
      "BAD_REQUEST",
      `${field} ${text}: ${count === 0 ? "there are no rules" : `give a rule number from 1 to ${count}`} (gantry flags rule list shows them)`,
      { field },
    );
  return n;
}

function printRules(flag: FlagView, environment: string, values: Values): void {
  const env = flag.environments[environment]!;
  if (values.json) {
    printJson({ flag: flag.key, environment, version: flag.version, rules: env.rules });
    return;
  }
  const rows = env.rules.map((r, i) => [
    i + 1,
    r.clauses.map(formatClause).join(" and "),
    formatServe(r),
    r.description,
  ]);
  rows.push(["-", "(everyone else)", formatServe(env.fallthrough ?? { variant: flag.defaultVariant }), ""]);
  process.stdout.write(
    `${flag.key} in ${environment} (${env.enabled ? "on" : "off"}, version ${flag.version}):\n${table(["#", "IF", "SERVE", "DESCRIPTION"], rows)}\n`,
  );
}

/** gantry flags rule add|remove|move|list KEY --env E ... */
export async function ruleAction(client: ApiClient, values: Values, rest: string[]): Promise<number> {
  const action = need(rest, 0, "add|remove|move|list");
  const flagKey = need(rest, 1, "KEY");
  const environment = requireEnv(values, `${action} rules`);
  if (action === "list") {
    const flag = await getFlag(client, flagKey);
    if (!flag.environments[environment])
      throw new GantryError("NOT_FOUND", `flag "${flagKey}" has no environment "${environment}"`, {
        field: "env",
      });
    printRules(flag, environment, values);
    return 0;
  }
  let flag: FlagView;
  if (action === "add") {
    const conditions = (values.if as string[] | undefined) ?? [];
    if (conditions.length === 0)
      throw new GantryError(
        "BAD_REQUEST",
        'a rule needs at least one --if CLAUSE, e.g. --if "country in DK,SE"',
        { field: "if" },
      );
    const rule = {
      clauses: conditions.map((c) => parseClause(c)),
      ...serveFrom(values, true),
      ...(typeof values.description === "string" && { description: values.description }),
    } as Rule;
    flag = await editEnvironment(client, values, flagKey, environment, (env) => {
      const at =
        values.position === undefined
          ? env.rules.length + 1
          : ruleNumber(String(values.position), env.rules.length + 1, "--position");
      env.rules.splice(at - 1, 0, rule);
      return env;
    });
  } else if (action === "remove") {
    const which = need(rest, 2, "N");
    flag = await editEnvironment(client, values, flagKey, environment, (env) => {
      env.rules.splice(ruleNumber(which, env.rules.length, "N") - 1, 1);
      return env;
    });
  } else if (action === "move") {
    const which = need(rest, 2, "N");
    if (typeof values.to !== "string")
      throw new GantryError("BAD_REQUEST", "say where with --to M", { field: "to" });
    flag = await editEnvironment(client, values, flagKey, environment, (env) => {
      const from = ruleNumber(which, env.rules.length, "N");
      const to = ruleNumber(values.to as string, env.rules.length, "--to");
      const [moved] = env.rules.splice(from - 1, 1);
      env.rules.splice(to - 1, 0, moved!);
      return env;
    });
  } else {
    throw new GantryError("BAD_REQUEST", `unknown rule action "${action}": add, remove, move or list`);
  }
  printRules(flag, environment, values);
  return 0;
}

function idList(text: unknown): string[] {
  return typeof text === "string"
    ? text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/** gantry flags segment list | get KEY | set KEY [--if ...]... [--include ..] [--exclude ..] | delete KEY */
export async function segmentAction(client: ApiClient, values: Values, rest: string[]): Promise<number> {
  const action = need(rest, 0, "list|get|set|delete");
  const { segments } = await client.request<{ segments: Record<string, Segment> }>(
    "GET",
    "/api/v1/flag-segments",
  );
  if (action === "list") {
    if (values.json) printJson({ segments });
    else
      process.stdout.write(
        `${table(
          ["SEGMENT", "RULES", "INCLUDED", "EXCLUDED", "DESCRIPTION"],
          Object.entries(segments).map(([k, s]) => [
            k,
            s.rules.length,
            s.included.length,
            s.excluded.length,
            s.description,
          ]),
        )}\n`,
      );
    return 0;
  }
  const segmentKey = need(rest, 1, "KEY");
  if (action === "get") {
    const s = segments[segmentKey];
    if (!s) throw new GantryError("NOT_FOUND", `no segment "${segmentKey}"`, { field: "key" });
    if (values.json) printJson({ segment: s });
    else {
      const lines = [`${segmentKey}${s.description ? `: ${s.description}` : ""}`];
      for (const r of s.rules) lines.push(`  if ${r.map(formatClause).join(" and ")}`);
      if (s.included.length) lines.push(`  included: ${s.included.join(", ")}`);
      if (s.excluded.length) lines.push(`  excluded: ${s.excluded.join(", ")}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return 0;
  }
  if (action === "delete") {
    const reason = typeof values.reason === "string" ? `?reason=${encodeURIComponent(values.reason)}` : "";
    await client.request("DELETE", `/api/v1/flag-segments/${path(segmentKey)}${reason}`);
    process.stdout.write(`deleted segment ${segmentKey}\n`);
    return 0;
  }
  if (action !== "set")
    throw new GantryError("BAD_REQUEST", `unknown segment action "${action}": list, get, set or delete`);
  const current = segments[segmentKey];
  const conditions = (values.if as string[] | undefined) ?? [];
  const body = {
    description: typeof values.description === "string" ? values.description : (current?.description ?? ""),
    rules: conditions.length > 0 ? [conditions.map((c) => parseClause(c))] : (current?.rules ?? []),
    included: values.include !== undefined ? idList(values.include) : (current?.included ?? []),
    excluded: values.exclude !== undefined ? idList(values.exclude) : (current?.excluded ?? []),
    ...reasonOf(values),
  };
  const result = await client.request<{ segment: Segment }>(
    "PUT",
    `/api/v1/flag-segments/${path(segmentKey)}`,
    body,
  );
  if (values.json) printJson(result);
  else process.stdout.write(`${current ? "updated" : "created"} segment ${segmentKey}\n`);
  return 0;
}

/** gantry flags plan list | set KEY --flag FLAG=VARIANT... | delete KEY */
export async function planAction(client: ApiClient, values: Values, rest: string[]): Promise<number> {
  const action = need(rest, 0, "list|set|delete");
  if (action === "list") {
    const { plans } = await client.request<{
      plans: Record<string, { description: string; flags: Record<string, string> }>;
    }>("GET", "/api/v1/flag-plans");
    if (values.json) printJson({ plans });
    else
      process.stdout.write(
        `${table(
          ["PLAN", "FLAGS", "DESCRIPTION"],
          Object.entries(plans).map(([k, p]) => [
            k,
            Object.entries(p.flags)
              .map(([f, v]) => `${f}=${v}`)
              .join(" "),
            p.description,
          ]),
        )}\n`,
      );
    return 0;
  }
  const planKey = need(rest, 1, "KEY");
  if (action === "delete") {
    const reason = typeof values.reason === "string" ? `?reason=${encodeURIComponent(values.reason)}` : "";
    await client.request("DELETE", `/api/v1/flag-plans/${path(planKey)}${reason}`);
    process.stdout.write(`deleted plan ${planKey}\n`);
    return 0;
  }
  if (action !== "set")
    throw new GantryError("BAD_REQUEST", `unknown plan action "${action}": list, set or delete`);
  const entries = ((values.flag as string[] | undefined) ?? []).map((f) => {
    const [flagKey, variant] = f.split("=");
    if (!flagKey || !variant)
      throw new GantryError("BAD_REQUEST", `--flag ${f} is not FLAG=VARIANT (e.g. --flag checkout=on)`, {
        field: "flag",
      });
    return [flagKey, variant];
  });
  await client.request("PUT", `/api/v1/flag-plans/${path(planKey)}`, {
    flags: Object.fromEntries(entries),
    ...(typeof values.description === "string" && { description: values.description }),
    ...reasonOf(values),
  });
  process.stdout.write(
    `plan ${planKey}: ${entries.map(([f, v]) => `${f}=${v}`).join(" ") || "(no flags)"}\n`,
  );
  return 0;
}
