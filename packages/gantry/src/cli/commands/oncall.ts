import { GantryError } from "../../errors/index.ts";
import type { OnCall, OncallDeclaration, PageRecord } from "../../oncall/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson, table } from "../render.ts";
import { declarationAction, declarationText, declarationVerbs } from "./oncall-declarations.ts";

const usage =
  "gantry oncall who [SCHEDULE] [--at T] | schedule NAME [--from T] [--for 7d] | schedule|person|policy|route list | show NAME | set NAME --file F | delete NAME | override SCHEDULE PERSON --from T --to T [--reason TEXT] | pages INCIDENT";

type Shift = OnCall & { from: string; to: string };

export const oncall: Command = {
  name: "oncall",
  usage,
  summary:
    "on call: who is on call, shifts, overrides, an incident's pages; people, schedules, policies and routes",
  help: `  who [SCHEDULE]      who is on call in each schedule (or one) now, or --at an ISO time
  schedule NAME       the final shifts (layers, restrictions, overrides) --from T (now) --for 7d
  override SCHEDULE PERSON --from T --to T
                      put PERSON on call above every layer between two ISO times
  pages INCIDENT      the pages of an incident: step, person, notifier, delivery, attempts

  person|schedule|policy|route list
                      every one, from gantry.yaml and from the API, with its source
  person|schedule|policy|route show NAME
                      its declaration and what names it (a schedule: also its shifts)
  person|schedule|policy|route set NAME --file FILE
                      create or replace one through the API (admin): FILE (YAML or JSON, - for
                      stdin) holds it as written in gantry.yaml under oncall.people.NAME,
                      schedules.NAME, policies.NAME or as one item of routes
  person|schedule|policy|route delete NAME
                      delete one made through the API (admin); refused while a policy, route,
                      schedule, override or an escalation under way still names it
  --reason TEXT       why, for the audit trail (override, set, delete)

People, schedules, policies and routes come from gantry.yaml (oncall:) and the API. Those in
gantry.yaml can only be changed there, and the API refuses their names. Routes made through
the API are tried after gantry.yaml's, in name order. Notifiers are in gantry.yaml only.
See docs/oncall.md.
${clientHelp}`,
  options: {
    ...clientOptions,
    at: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    for: { type: "string" },
    reason: { type: "string" },
    file: { type: "string", short: "f" },
  },
  async run(values, positionals) {
    const client = clientFrom(values);
    const action = requirePositional(
      oncall,
      positionals,
      0,
      "who|schedule|person|policy|route|override|pages",
    );
    const verb = positionals[1] as (typeof declarationVerbs)[number];
    if (
      (action === "person" || action === "policy" || action === "route") &&
      !declarationVerbs.includes(verb)
    )
      throw new GantryError(
        "BAD_REQUEST",
        `${verb === undefined ? "missing" : `unknown ${action} action "${verb}":`} ${action} list | show NAME | set NAME --file F | delete NAME\nusage: ${usage}`,
      );
    if (action === "person" || action === "policy" || action === "route")
      return declarationAction(client, action, verb, positionals[2], values);
    // `schedule NAME` shows shifts; `schedule list|set|delete` manage schedules, `schedule show NAME` does both.
    if (action === "schedule" && (verb === "list" || verb === "set" || verb === "delete"))
      return declarationAction(client, "schedule", verb, positionals[2], values);
    if (action === "who") {
      const q = values.at ? `?at=${encodeURIComponent(values.at as string)}` : "";
      const result = await client.request<{
        at: string;
        schedules: { name: string; onCall: OnCall | null }[];
      }>("GET", `/api/v1/oncall${q}`);
      const only = positionals[1];
      const schedules = only ? result.schedules.filter((s) => s.name === only) : result.schedules;
      if (only && schedules.length === 0)
        throw new GantryError(
          "NOT_FOUND",
          `no schedule "${only}"; declared: ${result.schedules.map((s) => s.name).join(", ") || "none"}`,
          {
            field: "schedule",
          },
        );
      if (values.json) printJson({ at: result.at, schedules });
      else
        process.stdout.write(
          `${table(
            ["SCHEDULE", "ON CALL", "LAYER"],
            schedules.map((s) => [
              s.name,
              s.onCall?.person ?? "nobody",
              s.onCall ? (s.onCall.layer ?? "override") : "-",
            ]),
          )}\n`,
        );
      return 0;
    }
    if (action === "schedule") {
      const show = verb === "show";
      const name = requirePositional(oncall, positionals, show ? 2 : 1, "NAME");
      const params = new URLSearchParams();
      if (values.from) params.set("from", values.from as string);
      if (values.for) params.set("for", values.for as string);
      const result = await client.request<{
        shifts: Shift[];
        schedule: OncallDeclaration;
        referencedBy: string[];
      }>("GET", `/api/v1/oncall/schedules/${encodeURIComponent(name)}?${params}`);
      if (values.json) printJson(result);
      else
        process.stdout.write(
          `${show ? `${declarationText(result.schedule, result.referencedBy)}\nshifts:\n` : ""}${table(
            ["FROM", "TO", "ON CALL", "LAYER"],
            result.shifts.map((s) => [s.from, s.to, s.person, s.layer ?? "override"]),
          )}\n`,
        );
      return 0;
    }
    if (action === "override") {
      const schedule = requirePositional(oncall, positionals, 1, "SCHEDULE");
      const person = requirePositional(oncall, positionals, 2, "PERSON");
      const result = await client.request<{ override: { id: number } }>(
        "POST",
        `/api/v1/oncall/schedules/${encodeURIComponent(schedule)}/overrides`,
        {
          person,
          from: values.from,
          to: values.to,
          ...(values.reason !== undefined && { reason: values.reason }),
        },
      );
      if (values.json) printJson(result);
      else
        process.stdout.write(
          `override ${result.override.id}: ${person} on call for ${schedule} from ${values.from} to ${values.to}\n`,
        );
      return 0;
    }
    if (action === "pages") {
      const id = requirePositional(oncall, positionals, 1, "INCIDENT");
      const { pages } = await client.request<{ pages: PageRecord[] }>(
        "GET",
        `/api/v1/incidents/${encodeURIComponent(id)}/pages`,
      );
      if (values.json) printJson({ pages });
      else
        process.stdout.write(
          `${table(
            ["KIND", "STEP", "PERSON", "VIA", "NOTIFIER", "STATUS", "ATTEMPTS", "SENT", "ERROR"],
            pages.map((p) => [
              p.kind,
              p.level >= 0 ? `L${p.level + 1}${p.round ? ` r${p.round}` : ""}` : "-",
              p.person,
              p.via ? `${p.via.schedule}${p.via.layer ? `/${p.via.layer}` : ""}` : "-",
              p.notifier,
              p.status,
              p.attempts,
              p.sentAt,
              p.lastError,
            ]),
          )}\n`,
        );
      return 0;
    }
    throw new GantryError("BAD_REQUEST", `unknown action "${action}"\nusage: ${usage}`);
  },
};
