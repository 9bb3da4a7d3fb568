import type { Environment, Flag } from "@gantry/sdk";
import { GantryError } from "../../errors/index.ts";
import type { FieldChange } from "../../flags/index.ts";
import type { ApiClient } from "../api-client.ts";
import { parseSplit } from "../flag-syntax.ts";

export type FlagView = Flag & {
  key: string;
  version: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
};
type Values = Record<string, unknown>;

export const flagsUsage = `gantry flags list [--env E] | get KEY | create KEY [--type T] [--variant NAME=VALUE]... [--default V]
       | set KEY [--env E] [on|off] [--serve V | --rollout on=25,off=75] [--off-variant V] [--default V] [--variant NAME=VALUE]...
       | rule add|remove|move|list KEY --env E ... | kill KEY --env E --reason TEXT [--variant V]
       | history KEY [--env E] | stale [--days 30] | schedule add|list|cancel ... | eval KEY --env E [--context JSON]
       | segment list|get|set|delete ... | plan list|set|delete ... | delete KEY | export
       | bisect --env E --since 2h --check CHECK [--on ENV] [--dry-run] | bisect list|show|cancel ...`;

export function requireEnv(values: Values, what: string): string {
  if (typeof values.env !== "string")
    throw new GantryError("BAD_REQUEST", `--env is required to ${what} (e.g. --env production)`, {
      field: "env",
    });
  return values.env;
}

export function reasonOf(values: Values): { reason?: string } {
  return typeof values.reason === "string" ? { reason: values.reason } : {};
}

export const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

export async function getFlag(client: ApiClient, flagKey: string): Promise<FlagView> {
  return (await client.request<{ flag: FlagView }>("GET", `/api/v1/flags/${path(flagKey)}`)).flag;
}

/** Reads the flag, changes one environment, writes it back with the version read (409 if it moved meanwhile). */
export async function editEnvironment(
  client: ApiClient,
  values: Values,
  flagKey: string,
  environment: string,
  edit: (env: Environment, flag: FlagView) => Environment,
): Promise<FlagView> {
  const flag = await getFlag(client, flagKey);
  const current = flag.environments[environment];
  if (!current)
    throw new GantryError("NOT_FOUND", `flag "${flagKey}" has no environment "${environment}"`, {
      field: "env",
    });
  const next = edit(structuredClone(current), flag);
  const result = await client.request<{ flag: FlagView; changes: { fields: FieldChange[] }[] }>(
    "PUT",
    `/api/v1/flags/${path(flagKey, "environments", environment)}`,
    { ...next, version: flag.version, ...reasonOf(values) },
  );
  return result.flag;
}

/** The fallthrough (or a rule's serve) from --serve / --rollout / --bucket-by. */
export function serveFrom(values: Values, required: boolean): Record<string, unknown> | undefined {
  if (values.serve !== undefined && values.rollout !== undefined)
    throw new GantryError("BAD_REQUEST", "give --serve VARIANT or --rollout SPLIT, not both", {
      field: "serve",
    });
  if (typeof values.serve === "string") return { variant: values.serve };
  if (typeof values.rollout === "string") {
    return {
      split: parseSplit(values.rollout),
      ...(typeof values["bucket-by"] === "string" && { bucketBy: values["bucket-by"] }),
    };
  }
  if (required)
    throw new GantryError("BAD_REQUEST", "say what to serve: --serve VARIANT or --rollout on=25,off=75", {
      field: "serve",
    });
  return undefined;
}
