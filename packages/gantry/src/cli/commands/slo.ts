import { readFileSync, writeFileSync } from "node:fs";
import { formatDuration } from "../../config/index.ts";
import { GantryError } from "../../errors/index.ts";
import type { SloView, VersionSli } from "../../slo/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson, table } from "../render.ts";

const usage =
  "gantry slo list | show NAME | sli SERVICE [--window 5m] | import FILE [--dry-run] [--prometheus-url URL] | export prometheus [--output FILE] | delete NAME";

export const slo: Command = {
  name: "slo",
  usage,
  summary: "SLOs: error budgets, burn rates, per-version SLIs, OpenSLO import, Prometheus rules",
  help: `  list                 every SLO: SLI now, budget left, fastest burn, firing alert
  show NAME            one SLO: window, events, budget and SLA, each alert rule's burn rates
  sli SERVICE          per-version SLIs over --window (default 5m): requests/s, availability,
                       p50/p90/p99, CPU cores and memory of its instances
  import FILE          read OpenSLO v1 YAML (SLO, SLI, AlertPolicy, AlertCondition, DataSource);
                       --dry-run checks only; --prometheus-url URL serves Prometheus metric
                       sources that name no URL
  export prometheus    recording and alerting rules for Prometheus (stdout, or --output FILE)
  delete NAME          delete an SLO declared through the API or imported

SLOs are declared in gantry.yaml (slos:), imported, or PUT /api/v1/slos/NAME; see docs/slo.md.
${clientHelp}`,
  options: {
    ...clientOptions,
    window: { type: "string" },
    "dry-run": { type: "boolean" },
    "prometheus-url": { type: "string" },
    output: { type: "string", short: "o" },
  },
  async run(values, positionals) {
    const client = clientFrom(values);
    const action = requirePositional(slo, positionals, 0, "list|show|sli|import|export|delete");
    if (action === "list") {
      const { slos } = await client.request<{ slos: SloView[] }>("GET", "/api/v1/slos");
      if (values.json) printJson({ slos });
      else if (slos.length === 0)
        process.stdout.write("no SLOs; declare one in gantry.yaml (slos:), see docs/slo.md\n");
      else {
        const rows = slos.map((s) => [
          s.name,
          s.service,
          s.sli,
          pct(s.objective),
          s.window,
          (s.status?.budget.sli == null ? "no traffic" : pct(s.status.budget.sli)) +
            (s.status?.sliSource.kind === "prometheus" && !s.status.sliSource.ok ? " (stale)" : ""),
          s.status ? pct(s.status.budget.remaining, 1) : "-",
          s.status ? fastestBurn(s) : "-",
          s.status?.severity?.toUpperCase() ?? "ok",
        ]);
        process.stdout.write(
          `${table(["NAME", "SERVICE", "SLI", "OBJECTIVE", "WINDOW", "NOW", "BUDGET LEFT", "BURN", "ALERT"], rows)}\n`,
        );
      }
      return 0;
    }
    if (action === "show") {
      const name = requirePositional(slo, positionals, 1, "NAME");
      const { slo: s } = await client.request<{ slo: SloView }>(
        "GET",
        `/api/v1/slos/${encodeURIComponent(name)}`,
      );
      if (values.json) printJson({ slo: s });
      else process.stdout.write(showText(s));
      return 0;
    }
    if (action === "sli") {
      const service = requirePositional(slo, positionals, 1, "SERVICE");
      const window = (values.window as string | undefined) ?? "5m";
      const result = await client.request<{ versions: VersionSli[] }>(
        "GET",
        `/api/v1/services/${encodeURIComponent(service)}/slis?window=${encodeURIComponent(window)}`,
      );
      if (values.json) printJson(result);
      else if (result.versions.length === 0)
        process.stdout.write(`no traffic to ${service} in the last ${window}\n`);
      else {
        const ms = (v: number | null) => (v === null ? "-" : `${Number(v.toFixed(1))}ms`);
        const rows = result.versions.map((v) => [
          v.version,
          v.requests,
          Number(v.rps.toFixed(2)),
          v.availability === null ? "-" : pct(v.availability),
          ms(v.p50),
          ms(v.p90),
          ms(v.p99),
          v.cpuCores === null ? "-" : Number(v.cpuCores.toFixed(3)),
          v.rssBytes === null ? "-" : `${Math.round(v.rssBytes / 1048576)}MiB`,
        ]);
        process.stdout.write(
          `${service}, last ${window}:\n${table(["VERSION", "REQUESTS", "REQ/S", "AVAILABILITY", "P50", "P90", "P99", "CPU", "MEMORY"], rows)}\n`,
        );
      }
      return 0;
    }
    if (action === "import") {
      const file = requirePositional(slo, positionals, 1, "FILE");
      let yaml: string;
      try {
        yaml = readFileSync(file, "utf8");
      } catch (error) {
        throw new GantryError("BAD_REQUEST", `cannot read ${file}: ${(error as Error).message}`, {
          field: "FILE",
        });
      }
      const dryRun = values["dry-run"] === true;
      const prometheusUrl = values["prometheus-url"] as string | undefined;
      const result = await client.request<{ imported: string[] }>("POST", "/api/v1/slos/import/openslo", {
        yaml,
        dryRun,
        ...(prometheusUrl !== undefined && { prometheusUrl }),
      });
      if (values.json) printJson(result);
      else
        process.stdout.write(
          `${dryRun ? "would import" : "imported"} ${result.imported.length} SLO${result.imported.length === 1 ? "" : "s"}: ${result.imported.join(", ")}\n`,
        );
      return 0;
    }
    if (action === "export") {
      const format = requirePositional(slo, positionals, 1, "prometheus");
      if (format !== "prometheus")
        throw new GantryError(
          "BAD_REQUEST",
          `unknown export format "${format}"; the one format is prometheus`,
          {
            field: "format",
          },
        );
      const { rules } = await client.request<{ rules: string }>("GET", "/api/v1/slos/export/prometheus");
      if (values.output) {
        writeFileSync(values.output as string, rules);
        process.stderr.write(
          `wrote ${values.output}; check it with: promtool check rules ${values.output}\n`,
        );
      } else process.stdout.write(rules);
      return 0;
    }
    if (action === "delete") {
      const name = requirePositional(slo, positionals, 1, "NAME");
      await client.request("DELETE", `/api/v1/slos/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted SLO ${name}\n`);
      return 0;
    }
    throw new GantryError("BAD_REQUEST", `unknown action "${action}"\nusage: ${usage}`);
  },
};

/** A share as a percentage with enough digits to tell 99.9% from 99.95%. */
function pct(r: number, digits = 3): string {
  return `${Number((r * 100).toFixed(digits))}%`;
}

function fastestBurn(s: SloView): string {
  const rules = s.status!.burnRates.rules;
  if (rules.length === 0) return "-";
  const top = rules.reduce((a, b) => (b.longBurnRate > a.longBurnRate ? b : a));
  return `${burn(top.longBurnRate)} over ${formatDuration(top.rule.longWindow)}`;
}

function burn(x: number): string {
  return `${Number(x.toFixed(x < 10 ? 2 : 1))}x`;
}

function showText(s: SloView): string {
  const lines = [`SLO ${s.name} (${s.source})`, `  service    ${s.service}`, `  SLI        ${s.sli}`];
  const declared = s.declared as { sli?: { prometheus?: Record<string, string> } };
  for (const [field, query] of Object.entries(declared.sli?.prometheus ?? {}))
    if (field !== "url") lines.push(`  ${field.padEnd(10)} ${query}`);
  lines.push(`  objective  ${pct(s.objective)} over ${s.window}`);
  const st = s.status;
  if (!st) return `${lines.join("\n")}\n  (not evaluated yet)\n`;
  const from = st.sliSource;
  if (from.kind === "prometheus")
    lines.push(
      from.ok
        ? `  data       Prometheus ${from.url}: ok${from.lastReadAt === null ? "" : `, last read ${new Date(from.lastReadAt).toISOString()}`}`
        : `  data       Prometheus ${from.url}: ERROR since ${new Date(from.failingSince!).toISOString()}: ${from.error}; budget and burn rates are from the data read before`,
    );
  const b = st.budget;
  lines.push(
    `  window     ${new Date(b.from).toISOString()} → ${new Date(b.to).toISOString()}${b.end !== b.to ? ` (period ends ${new Date(b.end).toISOString()})` : ""}`,
    `  events     ${Math.round(b.total)} (${Math.round(b.bad)} bad)  SLI ${b.sli === null ? "no traffic" : pct(b.sli)}`,
    `  budget     ${Math.round(b.allowedBad)} bad events allowed, ${pct(b.consumed, 1)} spent, ${pct(b.remaining, 1)} left`,
  );
  if (st.sla)
    lines.push(`  SLA        ${pct(st.sla.objective)}: ${pct(st.sla.consumed, 1)} of its budget spent`);
  lines.push(`  alert      ${st.severity ? st.severity.toUpperCase() : "none firing"}`);
  if (st.burnRates.rules.length > 0) {
    lines.push("", "  burn-rate rules:");
    const rows = st.burnRates.rules.map((r) => [
      r.rule.severity,
      `${burn(r.rule.burnRate)}`,
      r.rule.shortWindow > 0
        ? `${formatDuration(r.rule.longWindow)} & ${formatDuration(r.rule.shortWindow)}`
        : formatDuration(r.rule.longWindow),
      burn(r.longBurnRate),
      r.rule.shortWindow > 0 ? burn(r.shortBurnRate) : "-",
      r.rule.for ? formatDuration(r.rule.for) : "-",
      r.firing ? "FIRING" : "-",
    ]);
    lines.push(
      ...table(["SEVERITY", "ABOVE", "WINDOWS", "LONG", "SHORT", "FOR", "STATE"], rows)
        .split("\n")
        .map((l) => `    ${l}`),
    );
  }
  if (st.thresholds.length > 0) {
    lines.push("", "  threshold rules:");
    const rows = st.thresholds.map((t) => [
      t.rule.severity,
      `bad > ${pct(t.rule.maxBadRatio)}`,
      formatDuration(t.rule.window),
      t.badRatio === null ? "-" : pct(t.badRatio),
      `${Math.round(t.events)}/${t.rule.minEvents}`,
      t.firing ? "FIRING" : "-",
    ]);
    lines.push(
      ...table(["SEVERITY", "RULE", "WINDOW", "NOW", "EVENTS/MIN", "STATE"], rows)
        .split("\n")
        .map((l) => `    ${l}`),
    );
  }
  return `${lines.join("\n")}\n`;
}
