import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { GantryError } from "../../errors/index.ts";
import type { Alert, Incident, TimelineEntry } from "../../incidents/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { ago, printJson, table } from "../render.ts";

const usage =
  "gantry incidents list [--all|--open|--resolved] [--service S] [--severity SEV] [--since 7d] [--search TEXT] | show ID | ack ID | mitigate ID | resolve ID [--reason TEXT] | note ID TEXT | postmortem ID --file FILE | postmortem --template | trigger --dedup-key KEY --summary TEXT [--severity SEV] [--service S]";

const template = `# A blameless postmortem: every field is required. \`gantry incidents postmortem ID --file THIS\`
summary: What happened, in two sentences.
impact: Who was affected, how, for how long (requests failed, users, money).
rootCause: Why it happened (the cause under the trigger).
trigger: What set it off (a deploy, a flag flip, traffic, a dependency).
resolution: What ended the impact.
detection: How and when we learned of it (which alert, how long after the start).
actionItems:
  - description: What keeps this from happening again
    owner: who
    due: 2026-12-31
lessons: What went well, what went badly, where we were lucky.
`;

export const incidents: Command = {
  name: "incidents",
  usage,
  summary: "incidents: list, show with timeline, acknowledge, mitigate, resolve, notes, postmortems",
  help: `  list         incidents open or awaiting a postmortem (--all: every one; --open; --resolved),
               newest first; --search finds words in titles, timelines and postmortems
  show ID      status, alerts and the timeline (changes around the start, alerts, pages, notes)
  ack ID       acknowledge: you are on it (escalation stops)
  mitigate ID  the impact is over, the cause may not be
  resolve ID   resolve it and its alerts (an alert still firing opens a new incident)
  note ID TEXT add a note to the timeline
  postmortem ID --file FILE   write the postmortem (YAML or JSON); --template prints one.
               A critical or high-severity incident is closed only once it has one.
  trigger      report an alert through the API (--dedup-key, --summary, --severity, --service)
${clientHelp}`,
  options: {
    ...clientOptions,
    all: { type: "boolean" },
    open: { type: "boolean" },
    resolved: { type: "boolean" },
    service: { type: "string" },
    severity: { type: "string" },
    since: { type: "string" },
    search: { type: "string" },
    reason: { type: "string" },
    file: { type: "string" },
    template: { type: "boolean" },
    "dedup-key": { type: "string" },
    summary: { type: "string" },
    resolve: { type: "boolean" },
  },
  async run(values, positionals) {
    const action = requirePositional(
      incidents,
      positionals,
      0,
      "list|show|ack|mitigate|resolve|note|postmortem|trigger",
    );
    if (action === "postmortem" && values.template) {
      process.stdout.write(template);
      return 0;
    }
    const client = clientFrom(values);
    const id = () => {
      const text = requirePositional(incidents, positionals, 1, "ID");
      if (!/^\d+$/.test(text))
        throw new GantryError("BAD_REQUEST", `"${text}" is not an incident id (a number)`, { field: "ID" });
      return text;
    };
    switch (action) {
      case "list": {
        const params = new URLSearchParams();
        params.set(
          "state",
          values.all ? "all" : values.open ? "open" : values.resolved ? "resolved" : "unclosed",
        );
        for (const key of ["service", "severity", "since"] as const)
          if (values[key] !== undefined) params.set(key, values[key] as string);
        if (values.search !== undefined) params.set("q", values.search as string);
        const { incidents: list } = await client.request<{ incidents: Incident[] }>(
          "GET",
          `/api/v1/incidents?${params}`,
        );
        if (values.json) printJson({ incidents: list });
        else if (list.length === 0) process.stdout.write("no incidents\n");
        else
          process.stdout.write(
            `${table(
              ["ID", "SEVERITY", "STATUS", "SERVICE", "STARTED", "TITLE"],
              list.map((i) => [i.id, i.severity, statusText(i), i.service, ago(i.createdAt), i.title]),
            )}\n`,
          );
        return 0;
      }
      case "show": {
        const detail = await client.request<{
          incident: Incident;
          alerts: Alert[];
          timeline: TimelineEntry[];
        }>("GET", `/api/v1/incidents/${id()}`);
        if (values.json) printJson(detail);
        else process.stdout.write(showText(detail.incident, detail.alerts, detail.timeline));
        return 0;
      }
      case "ack":
      case "mitigate":
      case "resolve": {
        const verb = action === "ack" ? "acknowledge" : action;
        const { incident } = await client.request<{ incident: Incident }>(
          "POST",
          `/api/v1/incidents/${id()}/${verb}`,
          values.reason ? { reason: values.reason } : {},
        );
        if (values.json) printJson({ incident });
        else
          process.stdout.write(
            `incident ${incident.id} ${incident.status}${incident.status === "resolved" && incident.postmortemDue ? "; it needs a postmortem to close (gantry incidents postmortem --template)" : ""}\n`,
          );
        return 0;
      }
      case "note": {
        const incidentId = id();
        const text = positionals.slice(2).join(" ").trim();
        if (!text) throw new GantryError("BAD_REQUEST", `missing TEXT\nusage: ${usage}`, { field: "TEXT" });
        await client.request("POST", `/api/v1/incidents/${incidentId}/notes`, { text });
        process.stdout.write(`noted on incident ${incidentId}\n`);
        return 0;
      }
      case "postmortem": {
        const incidentId = id();
        if (!values.file)
          throw new GantryError(
            "BAD_REQUEST",
            "give --file FILE (YAML or JSON); `gantry incidents postmortem --template` prints one",
            {
              field: "file",
            },
          );
        let body: unknown;
        try {
          body = parseYaml(readFileSync(values.file as string, "utf8"));
        } catch (error) {
          throw new GantryError("BAD_REQUEST", `cannot read ${values.file}: ${(error as Error).message}`, {
            field: "file",
          });
        }
        const { incident } = await client.request<{ incident: Incident }>(
          "PUT",
          `/api/v1/incidents/${incidentId}/postmortem`,
          body,
        );
        if (values.json) printJson({ incident });
        else
          process.stdout.write(
            `postmortem written; incident ${incident.id} ${incident.closed ? "closed" : incident.status}\n`,
          );
        return 0;
      }
      case "trigger": {
        const body = {
          dedupKey: values["dedup-key"],
          summary: values.summary,
          ...(values.severity !== undefined && { severity: values.severity }),
          ...(values.service !== undefined && { service: values.service }),
          ...(values.resolve === true && { status: "resolved" }),
        };
        const result = await client.request<{
          incident: { id: number; status: string } | null;
          created: boolean;
        }>("POST", "/api/v1/alerts", body);
        if (values.json) printJson(result);
        else if (!result.incident) process.stdout.write("no firing alert with that key\n");
        else
          process.stdout.write(
            `${result.created ? "opened" : "updated"} incident ${result.incident.id} (${result.incident.status})\n`,
          );
        return 0;
      }
    }
    throw new GantryError("BAD_REQUEST", `unknown action "${action}"\nusage: ${usage}`);
  },
};

function statusText(i: Incident): string {
  return i.status === "resolved" && i.postmortemDue ? "resolved, postmortem due" : i.status;
}

function showText(i: Incident, alerts: Alert[], timeline: TimelineEntry[]): string {
  const lines = [
    `incident ${i.id}: ${i.title}`,
    `  severity  ${i.severity}`,
    `  status    ${statusText(i)}${i.closed ? " (closed)" : ""}`,
    `  service   ${i.service ?? "-"}`,
    `  started   ${i.createdAt} (${ago(i.createdAt)})`,
  ];
  if (i.acknowledgedAt) lines.push(`  acked     ${i.acknowledgedAt} by ${i.acknowledgedBy}`);
  if (i.mitigatedAt) lines.push(`  mitigated ${i.mitigatedAt} by ${i.mitigatedBy}`);
  if (i.resolvedAt) lines.push(`  resolved  ${i.resolvedAt} by ${i.resolvedBy}`);
  lines.push("", "alerts:");
  lines.push(
    ...table(
      ["STATUS", "SEVERITY", "SOURCE", "KEY", "SUMMARY"],
      alerts.map((a) => [a.status, a.severity, a.source, a.key, a.summary]),
    )
      .split("\n")
      .map((l) => `  ${l}`),
  );
  lines.push("", "timeline:");
  for (const e of timeline)
    lines.push(`  ${e.at.slice(0, 19).replace("T", " ")}  ${e.kind.padEnd(14)} ${e.text}`);
  if (i.postmortem) {
    const p = i.postmortem;
    lines.push("", "postmortem:");
    for (const [k, v] of Object.entries({
      summary: p.summary,
      impact: p.impact,
      "root cause": p.rootCause,
      trigger: p.trigger,
      resolution: p.resolution,
      detection: p.detection,
      lessons: p.lessons,
    }))
      lines.push(`  ${k}: ${v}`);
    lines.push("  action items:");
    for (const a of p.actionItems)
      lines.push(`    [${a.done ? "x" : " "}] ${a.description} (${a.owner}${a.due ? `, due ${a.due}` : ""})`);
  } else if (i.postmortemDue) lines.push("", "postmortem: due (gantry incidents postmortem --template)");
  return `${lines.join("\n")}\n`;
}
