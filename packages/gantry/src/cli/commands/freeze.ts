import type { FreezeSpec } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson, table } from "../render.ts";

type Listed = { id: string; spec: FreezeSpec; source: string; inForce: boolean };

function windowText(spec: FreezeSpec): string {
  if (spec.weekly) return `weekly ${spec.weekly.from} → ${spec.weekly.to} ${spec.timezone}`;
  if (spec.daily)
    return `daily ${spec.daily.from} → ${spec.daily.to} on ${spec.daily.days.join(",")} ${spec.timezone}`;
  return `${spec.once!.from} → ${spec.once!.to}`;
}

export const freeze: Command = {
  name: "freeze",
  usage:
    "gantry freeze create NAME (--weekly 'fri 15:00-mon 08:00' | --daily 18:00-08:00 [--days mon,tue] | --from T --to T) [--service S]... [--tz ZONE] [--reason TEXT] | list | delete ID|NAME",
  summary: "release freezes: windows in which deploys are refused",
  help: `Deploys to the services a freeze names (all, when it names none) are refused while it is
in force, naming the freeze; an admin may deploy anyway with --override --reason (audited).
Rollbacks are never blocked. Freezes can also be declared in gantry.yaml (freezes:).

  --weekly 'fri 15:00-mon 08:00'  every week, from a day and time to another
  --daily 18:00-08:00             every day (or --days mon,tue,...: the days it starts), may cross midnight
  --from T --to T                 once, between two ISO times (with offset)
  --tz ZONE                       IANA time zone of weekly and daily windows (default UTC)
  --service S                     only for S (repeatable); default all services
${clientHelp}`,
  options: {
    ...clientOptions,
    weekly: { type: "string" },
    daily: { type: "string" },
    days: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    tz: { type: "string" },
    service: { type: "string", multiple: true },
    reason: { type: "string" },
  },
  async run(values, positionals) {
    const client = clientFrom(values);
    const action = requirePositional(freeze, positionals, 0, "create|list|delete");
    if (action === "list") {
      const { freezes } = await client.request<{ freezes: Listed[] }>("GET", "/api/v1/freezes");
      if (values.json) printJson({ freezes });
      else {
        const rows = freezes.map((f) => [
          f.id.slice(0, 8),
          f.spec.name,
          f.inForce ? "IN FORCE" : "-",
          f.spec.services.join(",") || "all",
          windowText(f.spec),
          f.source,
          f.spec.reason,
        ]);
        process.stdout.write(
          `${table(["ID", "NAME", "NOW", "SERVICES", "WINDOW", "FROM", "REASON"], rows)}\n`,
        );
      }
      return 0;
    }
    if (action === "delete") {
      const id = requirePositional(freeze, positionals, 1, "ID|NAME");
      await client.request("DELETE", `/api/v1/freezes/${encodeURIComponent(id)}`);
      process.stdout.write(`deleted freeze ${id}\n`);
      return 0;
    }
    if (action !== "create")
      throw new GantryError("BAD_REQUEST", `unknown action "${action}"\nusage: ${freeze.usage}`);
    const name = requirePositional(freeze, positionals, 1, "NAME");
    const spec: Record<string, unknown> = {
      name,
      services: values.service ?? [],
      ...(values.tz !== undefined && { timezone: values.tz }),
      ...(values.reason !== undefined && { reason: values.reason }),
    };
    if (values.weekly) {
      const [from, to] = (values.weekly as string).split("-").map((p) => p.trim());
      spec.weekly = { from, to };
    }
    if (values.daily) {
      const [from, to] = (values.daily as string).split("-").map((p) => p.trim());
      spec.daily = {
        from,
        to,
        ...(values.days !== undefined && { days: (values.days as string).split(",") }),
      };
    }
    if (values.from || values.to) spec.once = { from: values.from, to: values.to };
    const { freeze: created } = await client.request<{ freeze: { id: string } }>(
      "POST",
      "/api/v1/freezes",
      spec,
    );
    if (values.json) printJson({ freeze: created });
    else process.stdout.write(`created freeze ${name} (${created.id})\n`);
    return 0;
  },
};

export const approve: Command = {
  name: "approve",
  usage: "gantry approve ROLLOUT [--reason TEXT]",
  summary: "approve a deploy that waits for a second person",
  help: `A service with requireApproval: true starts its deploys only once somebody other than
the person who deployed approves them. gantry status shows the rollout id.
${clientHelp}`,
  options: { ...clientOptions, reason: { type: "string" } },
  async run(values, positionals) {
    const id = requirePositional(approve, positionals, 0, "ROLLOUT");
    const client = clientFrom(values);
    const body = values.reason ? { reason: values.reason } : {};
    const result = await client.request<{ rollout: { id: number; to: string } }>(
      "POST",
      `/api/v1/rollouts/${encodeURIComponent(id)}/approve`,
      body,
    );
    if (values.json) printJson(result);
    else process.stdout.write(`approved rollout ${result.rollout.id}: ${result.rollout.to} is rolling out\n`);
    return 0;
  },
};
