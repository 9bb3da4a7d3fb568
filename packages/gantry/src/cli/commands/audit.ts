import type { AuditEvent } from "../../audit/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions } from "../command.ts";
import { printJson, table } from "../render.ts";

export const audit: Command = {
  name: "audit",
  usage: "gantry audit [--service S] [--since 1h] [--action A] [--json]",
  summary: "the audit trail: every change, by whom, when and why",
  help: `Prints the audit trail, oldest first: deploys, steps, rollbacks, releases, services
declared, tokens created.

  --service S   only events of service S
  --since T     a duration back from now (30m, 1h, 7d) or a time (2026-11-22T10:00:00Z)
  --action A    only one kind of event (e.g. rollout.failed)
  --json        {"events": [...]} as documented in docs/cli.md
${clientHelp}`,
  options: {
    ...clientOptions,
    service: { type: "string" },
    since: { type: "string" },
    action: { type: "string" },
  },
  async run(values) {
    const client = clientFrom(values);
    const query = new URLSearchParams();
    for (const key of ["service", "since", "action"] as const)
      if (values[key]) query.set(key, values[key] as string);
    const { events } = await client.request<{ events: AuditEvent[] }>("GET", `/api/v1/audit?${query}`);
    if (values.json) {
      printJson({ events });
      return 0;
    }
    const rows = events.map((e) => [
      e.at.replace("T", " ").slice(0, 19),
      e.actor,
      e.action,
      e.service,
      e.subject,
      e.reason,
    ]);
    process.stdout.write(
      `${table(["WHEN (UTC)", "ACTOR", "ACTION", "SERVICE", "SUBJECT", "REASON"], rows)}\n`,
    );
    return 0;
  },
};
