import { parseDuration } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import type { ScheduledChange } from "../../flags/index.ts";
import type { ApiClient } from "../api-client.ts";
import { printJson, table } from "../render.ts";
import { flagsUsage, reasonOf, requireEnv, serveFrom } from "./flags-common.ts";

type Values = Record<string, unknown>;

/** When, from --at TIME (ISO with offset) or --in DURATION (from now). */
export function scheduleTime(values: Values, now = new Date()): Date {
  if ((values.at === undefined) === (values.in === undefined))
    throw new GantryError(
      "BAD_REQUEST",
      "say when with --at TIME (e.g. 2026-12-01T09:00:00Z) or --in DURATION (e.g. 2h)",
      {
        field: "at",
      },
    );
  if (typeof values.in === "string") {
    const ms = parseDuration(values.in);
    if (ms === undefined)
      throw new GantryError("BAD_REQUEST", `--in ${values.in} is not a duration (e.g. 90m, 2h)`, {
        field: "in",
      });
    return new Date(now.getTime() + ms);
  }
  const at = new Date(values.at as string);
  if (!/[zZ]|[+-]\d\d:?\d\d$/.test(values.at as string) || Number.isNaN(at.getTime()))
    throw new GantryError(
      "BAD_REQUEST",
      `--at ${values.at} is not a time with a zone; write e.g. 2026-12-01T09:00:00Z or 2026-12-01T10:00+01:00`,
      {
        field: "at",
      },
    );
  return at;
}

function describeChange(change: Record<string, unknown>): string {
  const parts: string[] = [];
  if (change.enabled !== undefined) parts.push(change.enabled ? "on" : "off");
  if (change.fallthrough !== undefined) parts.push(`serve ${JSON.stringify(change.fallthrough)}`);
  if (change.offVariant !== undefined) parts.push(`off variant ${change.offVariant}`);
  if (change.rules !== undefined) parts.push(`${(change.rules as unknown[]).length} rules`);
  return parts.join(", ");
}

/** gantry flags schedule add KEY --env E (--at T | --in D) (on|off|--serve V|--rollout ...) | list [--all] | cancel ID */
export async function scheduleAction(client: ApiClient, values: Values, rest: string[]): Promise<number> {
  const action = rest[0];
  if (action === "list") {
    const status = values.all ? "" : "?status=pending";
    const { schedules } = await client.request<{ schedules: ScheduledChange[] }>(
      "GET",
      `/api/v1/flag-schedules${status}`,
    );
    if (values.json) printJson({ schedules });
    else
      process.stdout.write(
        `${table(
          ["ID", "AT", "FLAG", "ENV", "CHANGE", "STATUS", "BY", "REASON"],
          schedules.map((s) => [
            s.id,
            s.at,
            s.flagKey,
            s.environment,
            describeChange(s.change as Record<string, unknown>),
            s.status,
            s.createdBy,
            s.outcome ?? s.reason,
          ]),
        )}\n`,
      );
    return 0;
  }
  if (action === "cancel") {
    const id = rest[1];
    if (!id)
      throw new GantryError("BAD_REQUEST", "missing ID (gantry flags schedule list shows them)", {
        field: "id",
      });
    const reason = typeof values.reason === "string" ? `?reason=${encodeURIComponent(values.reason)}` : "";
    const { schedule } = await client.request<{ schedule: ScheduledChange }>(
      "DELETE",
      `/api/v1/flag-schedules/${encodeURIComponent(id)}${reason}`,
    );
    if (values.json) printJson({ schedule });
    else
      process.stdout.write(
        `cancelled scheduled change #${schedule.id} (${schedule.flagKey} in ${schedule.environment} at ${schedule.at})\n`,
      );
    return 0;
  }
  if (action !== "add")
    throw new GantryError("BAD_REQUEST", `schedule takes add, list or cancel\nusage: ${flagsUsage}`);
  const flagKey = rest[1];
  if (!flagKey)
    throw new GantryError("BAD_REQUEST", "missing KEY: gantry flags schedule add KEY --env E --at TIME on", {
      field: "key",
    });
  const state = rest[2];
  if (state !== undefined && state !== "on" && state !== "off")
    throw new GantryError("BAD_REQUEST", `"${state}" is neither on nor off`, { field: "state" });
  const environment = requireEnv(values, "schedule a change");
  const change: Record<string, unknown> = {};
  if (state !== undefined) change.enabled = state === "on";
  const serve = serveFrom(values, false);
  if (serve) change.fallthrough = serve;
  if (typeof values["off-variant"] === "string") change.offVariant = values["off-variant"];
  if (Object.keys(change).length === 0)
    throw new GantryError(
      "BAD_REQUEST",
      "say what to change: on, off, --serve V, --rollout SPLIT or --off-variant V",
      { field: "change" },
    );
  const { schedule } = await client.request<{ schedule: ScheduledChange }>("POST", "/api/v1/flag-schedules", {
    flagKey,
    environment,
    at: scheduleTime(values).toISOString(),
    change,
    ...reasonOf(values),
  });
  if (values.json) printJson({ schedule });
  else
    process.stdout.write(
      `scheduled #${schedule.id}: ${flagKey} in ${environment} at ${schedule.at}: ${describeChange(change)}\n`,
    );
  return 0;
}
