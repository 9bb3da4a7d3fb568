import type { Environment } from "@gantry/sdk";
import { GantryError } from "../../errors/index.ts";
import { type ApiClient, clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { parseVariant } from "../flag-syntax.ts";
import { printJson } from "../render.ts";
import { bisectAction, bisectHelp } from "./flags-bisect.ts";
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
import { planAction, ruleAction, segmentAction } from "./flags-parts.ts";
import { scheduleAction } from "./flags-schedule.ts";
import { envSummary, evaluate, exportSet, get, history, list, stale } from "./flags-show.ts";

type Values = Record<string, unknown>;

export const flags: Command = {
  name: "flags",
  usage: flagsUsage,
  summary:
    "feature flags: create, turn on/off per environment, rules, rollouts, kill switch, schedules, stale flags",
  help: `A flag has variants (boolean flags: on/off) and, per environment (gantry.yaml
flags.environments), whether it is on, ordered rules, and what everyone else gets (the
default, or a percentage rollout). Off, it serves its off variant. Changes in a protected
environment (production by default) need an admin token; --reason is recorded in the audit.

  list [--env E]                       flags, on/off per environment, last evaluated
  get KEY                              variants, each environment's rules, version, lifecycle, schedules
  create KEY [--type boolean|string|number|object] [--variant NAME=VALUE]... [--default V]
             [--description TEXT]      a new flag, off everywhere; boolean by default, with variants
                                       on/off, serving on when turned on and off when turned off
  set KEY --env E [on|off] [--serve V | --rollout on=25,off=75 [--bucket-by ATTR]] [--off-variant V]
                                       turn it on/off in E; what everyone not matched by a rule gets
  set KEY [--default V] [--variant NAME=VALUE]... [--description TEXT]
                                       the flag itself (all environments)
  rule add KEY --env E --if CLAUSE [--if CLAUSE]... (--serve V | --rollout a=50,b=50) [--position N]
                                       a rule (all its clauses must hold); first matching rule wins
  rule remove KEY --env E N | rule move KEY --env E N --to M | rule list KEY --env E
  kill KEY --env E --reason TEXT [--variant V]
                                       the kill switch: off in E at once, serving its off variant (or V,
                                       which becomes the off variant); cancels E's pending schedules;
                                       a deployer may kill in a protected environment
  history KEY [--env E]                every change: who, when, why, field by field
  stale [--days 30]                    flags never evaluated, not evaluated, or serving one variant everywhere
  schedule add KEY --env E (--at TIME | --in 2h) (on|off | --serve V | --rollout ...)
  schedule list [--all] | schedule cancel ID
  eval KEY --env E [--context JSON]    what the server evaluates for a context
  segment list | get KEY | set KEY [--if CLAUSE]... [--include ID,..] [--exclude ID,..] | delete KEY
  plan list | set KEY --flag FLAG=VARIANT... | delete KEY
  delete KEY                           refused while another flag or a plan refers to it
  export                               the whole flag set as YAML for flags.yaml (see gantry apply)
${bisectHelp}

CLAUSE: "country in DK,SE", "not email endsWith/i @acme.com" (/i: case-insensitive),
"age gte 18", "version semverRange >=2.1.0", "ip cidr 10.0.0.0/8", "segment beta",
'plan in ["pro","team"]' (a JSON array for numbers, booleans or values with commas).
Operators: equals in notIn startsWith endsWith contains matches lt lte gt gte before after
semverEq semverLt semverGt semverRange cidr. See docs/flags.md.
  --reason TEXT    why (audit trail)     --json  machine-readable output
${clientHelp}`,
  options: {
    ...clientOptions,
    env: { type: "string" },
    reason: { type: "string" },
    type: { type: "string" },
    variant: { type: "string", multiple: true },
    default: { type: "string" },
    description: { type: "string" },
    serve: { type: "string" },
    rollout: { type: "string" },
    "bucket-by": { type: "string" },
    "off-variant": { type: "string" },
    if: { type: "string", multiple: true },
    position: { type: "string" },
    to: { type: "string" },
    at: { type: "string" },
    in: { type: "string" },
    all: { type: "boolean" },
    days: { type: "string" },
    context: { type: "string" },
    include: { type: "string" },
    exclude: { type: "string" },
    flag: { type: "string", multiple: true },
    since: { type: "string" },
    check: { type: "string" },
    on: { type: "string" },
    settle: { type: "string" },
    window: { type: "string" },
    "min-requests": { type: "string" },
    samples: { type: "string" },
    timeout: { type: "string" },
    "dry-run": { type: "boolean" },
  },
  async run(values, positionals) {
    const client = clientFrom(values);
    const action = requirePositional(flags, positionals, 0, "an action (list, get, create, set, ...)");
    const rest = positionals.slice(1);
    switch (action) {
      case "list":
        return list(client, values);
      case "get":
        return get(client, values, key(rest));
      case "create":
        return create(client, values, key(rest));
      case "set":
        return set(client, values, key(rest), rest[1]);
      case "kill":
        return kill(client, values, key(rest));
      case "history":
        return history(client, values, key(rest));
      case "stale":
        return stale(client, values);
      case "delete":
        return remove(client, values, key(rest));
      case "eval":
        return evaluate(client, values, key(rest));
      case "export":
        return exportSet(client, values);
      case "rule":
        return ruleAction(client, values, rest);
      case "segment":
        return segmentAction(client, values, rest);
      case "plan":
        return planAction(client, values, rest);
      case "schedule":
        return scheduleAction(client, values, rest);
      case "bisect":
        return bisectAction(client, values, rest);
      default:
        throw new GantryError("BAD_REQUEST", `unknown action "${action}"\nusage: ${flagsUsage}`);
    }
  },
};

function key(rest: string[]): string {
  return requirePositional(flags, rest, 0, "KEY");
}

async function create(client: ApiClient, values: Values, flagKey: string): Promise<number> {
  const type = (values.type as string | undefined) ?? "boolean";
  const given = ((values.variant as string[] | undefined) ?? []).map((v) => parseVariant(v, type));
  const variants =
    given.length > 0 ? Object.fromEntries(given) : type === "boolean" ? { on: true, off: false } : undefined;
  if (!variants)
    throw new GantryError(
      "BAD_REQUEST",
      `a ${type} flag needs its variants: --variant NAME=VALUE (at least one)`,
      {
        field: "variant",
      },
    );
  // A boolean flag made here serves on when turned on and off when off, in every environment.
  const environments =
    type === "boolean" && given.length === 0
      ? Object.fromEntries(
          (
            await client.request<{ environments: { name: string }[] }>("GET", "/api/v1/flags")
          ).environments.map((e) => [
            e.name,
            { enabled: false, offVariant: "off", fallthrough: { variant: "on" } },
          ]),
        )
      : undefined;
  const defaultVariant =
    (values.default as string | undefined) ??
    (type === "boolean" && given.length === 0 ? "off" : given[0]![0]);
  const result = await client.request<{ flag: FlagView }>("POST", "/api/v1/flags", {
    key: flagKey,
    type,
    variants,
    defaultVariant,
    ...(environments && { environments }),
    ...(typeof values.description === "string" && { description: values.description }),
    ...reasonOf(values),
  });
  if (values.json) printJson(result);
  else
    process.stdout.write(
      `created ${flagKey} (${type}; variants ${Object.keys(variants).join(", ")}; default ${defaultVariant}), off in ${Object.keys(result.flag.environments).join(", ")}\n`,
    );
  return 0;
}

async function set(
  client: ApiClient,
  values: Values,
  flagKey: string,
  state: string | undefined,
): Promise<number> {
  if (state !== undefined && state !== "on" && state !== "off")
    throw new GantryError("BAD_REQUEST", `"${state}" is neither on nor off\nusage: ${flagsUsage}`, {
      field: "state",
    });
  const envLevel =
    state !== undefined ||
    values.serve !== undefined ||
    values.rollout !== undefined ||
    values["off-variant"] !== undefined;
  const flagLevel =
    values.default !== undefined || values.variant !== undefined || values.description !== undefined;
  if (!envLevel && !flagLevel)
    throw new GantryError(
      "BAD_REQUEST",
      "nothing to set: give on|off, --serve, --rollout or --off-variant with --env; or --default, --variant, --description",
    );
  let flag: FlagView | undefined;
  if (flagLevel) {
    const current = await getFlag(client, flagKey);
    const variants = { ...current.variants };
    for (const v of (values.variant as string[] | undefined) ?? []) {
      const [name, value] = parseVariant(v, current.type);
      variants[name] = value as never;
    }
    const {
      key: _k,
      version,
      createdAt: _a,
      createdBy: _b,
      updatedAt: _c,
      updatedBy: _d,
      ...definition
    } = current;
    flag = (
      await client.request<{ flag: FlagView }>("PUT", `/api/v1/flags/${path(flagKey)}`, {
        ...definition,
        variants,
        ...(typeof values.default === "string" && { defaultVariant: values.default }),
        ...(typeof values.description === "string" && { description: values.description }),
        version,
        ...reasonOf(values),
      })
    ).flag;
  }
  if (envLevel) {
    const environment = requireEnv(values, "turn a flag on or off or set what it serves");
    flag = await editEnvironment(client, values, flagKey, environment, (env) => {
      if (state !== undefined) env.enabled = state === "on";
      const serve = serveFrom(values, false);
      if (serve) env.fallthrough = serve as Environment["fallthrough"];
      if (typeof values["off-variant"] === "string") env.offVariant = values["off-variant"];
      return env;
    });
  }
  if (values.json) printJson({ flag });
  else {
    const f = flag!;
    const shown = typeof values.env === "string" ? [values.env] : Object.keys(f.environments);
    process.stdout.write(
      `${f.key} (version ${f.version}): ${shown.map((e) => `${e} ${envSummary(f, e)}`).join(", ")}\n`,
    );
  }
  return 0;
}

async function kill(client: ApiClient, values: Values, flagKey: string): Promise<number> {
  const environment = requireEnv(values, "kill a flag");
  if (typeof values.reason !== "string" || values.reason.trim() === "")
    throw new GantryError(
      "BAD_REQUEST",
      "--reason is required: say why the flag is killed (it goes in the audit trail)",
      {
        field: "reason",
      },
    );
  const result = await client.request<{ flag: FlagView; serving: string; cancelledSchedules: number[] }>(
    "POST",
    `/api/v1/flags/${path(flagKey, "environments", environment, "kill")}`,
    { reason: values.reason, ...(typeof values.variant === "string" && { variant: values.variant }) },
  );
  if (values.json) printJson(result);
  else {
    const cancelled = result.cancelledSchedules.length
      ? `; cancelled scheduled change${result.cancelledSchedules.length > 1 ? "s" : ""} ${result.cancelledSchedules.map((id) => `#${id}`).join(", ")}`
      : "";
    process.stdout.write(
      `killed ${flagKey} in ${environment}: everyone gets "${result.serving}"${cancelled}\n`,
    );
  }
  return 0;
}

async function remove(client: ApiClient, values: Values, flagKey: string): Promise<number> {
  const reason = typeof values.reason === "string" ? `?reason=${encodeURIComponent(values.reason)}` : "";
  const result = await client.request("DELETE", `/api/v1/flags/${path(flagKey)}${reason}`);
  if (values.json) printJson(result);
  else process.stdout.write(`deleted ${flagKey}\n`);
  return 0;
}
