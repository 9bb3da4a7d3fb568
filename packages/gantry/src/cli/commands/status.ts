import type { ServiceReport } from "../../rollout/index.ts";
import type { RouteCohorts } from "../../router/cohorts.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions } from "../command.ts";
import { printJson, table } from "../render.ts";

export const status: Command = {
  name: "status",
  usage: "gantry status [SERVICE] [--json]",
  summary: "live versions, traffic, instances and rollouts under way",
  help: `Shows, per service, the build version that serves traffic, how traffic is split, each
instance (version, port, state, health, restarts) and the rollout under way or the last one.

  --json   {"services": [ServiceReport]} as documented in docs/cli.md
${clientHelp}`,
  options: clientOptions,
  async run(values, positionals) {
    const client = clientFrom(values);
    const [only] = positionals;
    const services = only
      ? [
          (
            await client.request<{ status: ServiceReport }>(
              "GET",
              `/api/v1/services/${encodeURIComponent(only)}`,
            )
          ).status,
        ]
      : (await client.request<{ services: ServiceReport[] }>("GET", "/api/v1/status")).services;
    if (values.json) {
      printJson({ services });
      return 0;
    }
    if (services.length === 0) process.stdout.write("no services declared\n");
    for (const s of services) process.stdout.write(`${renderService(s)}\n\n`);
    return 0;
  },
};

function renderService(s: ServiceReport): string {
  const traffic =
    s.traffic === "by-instances"
      ? "spread over every ready instance"
      : "cohorts" in s.traffic
        ? cohortsText(s.traffic.cohorts)
        : "shadow" in s.traffic
          ? `${s.traffic.primary} 100% (${s.traffic.shadow.share}% of ${s.traffic.shadow.methods.join(", ")} copied to ${s.traffic.shadow.version}, which never answers)`
          : s.traffic.map((t) => `${t.version} ${t.weight}%`).join(", ") || "none";
  const lines = [
    `${s.service}: live ${s.liveVersion ?? "(nothing deployed)"}   mode ${s.mode}   traffic ${traffic}`,
  ];
  if (s.idle) lines.push(`  idle colour ${s.idle.version} kept for rollback until ${s.idle.until}`);
  const { mode, breaker, lock } = s.switches;
  if (mode)
    lines.push(
      `  ${mode.mode} since ${mode.at} by ${mode.actor}${mode.until ? ` until ${mode.until}` : ""}${mode.reason ? `: ${mode.reason}` : ""}`,
    );
  if (s.breaker && s.breaker !== "closed") lines.push(`  circuit breaker ${s.breaker}`);
  if (breaker)
    lines.push(
      `  breaker held ${breaker.state} by ${breaker.actor}${breaker.reason ? `: ${breaker.reason}` : ""}`,
    );
  if (lock) lines.push(`  LOCKED by ${lock.actor} since ${lock.at}: ${lock.reason}`);
  if (s.frozenBy.length > 0) lines.push(`  release freeze in force: ${s.frozenBy.join(", ")}`);
  const r = s.rollout ?? s.lastRollout;
  if (r) {
    const state = s.rollout
      ? `step ${r.step}/${r.steps}: ${r.stepDescription ?? ""}`
      : `finished ${r.finishedAt ?? ""}`;
    lines.push(
      `  ${s.rollout ? "rollout" : "last rollout"} ${r.id} (${r.kind}, ${r.strategy}) ${r.from ?? "-"} → ${r.to}: ${r.status}, ${state}`,
    );
    if (r.paused)
      lines.push(
        `  PAUSED by ${r.paused.by} since ${r.paused.at}${r.paused.reason ? `: ${r.paused.reason}` : ""} (gantry resume ${s.service})`,
      );
    if (r.failure) lines.push(`  reason: ${r.failure}`);
    if (r.analysis) {
      lines.push(`  analysis (step ${r.analysis.step + 1}, ${r.analysis.at}): ${r.analysis.verdict}`);
      for (const check of r.analysis.checks) lines.push(`    ${check.verdict.padEnd(12)} ${check.summary}`);
      if (r.analysis.shadow)
        lines.push(`    ${r.analysis.verdict.padEnd(12)} shadow: ${r.analysis.shadow.summary}`);
      for (const check of r.analysis.custom ?? [])
        lines.push(`    ${check.verdict.padEnd(12)} ${check.name} (${check.kind}): ${check.summary}`);
    }
  }
  if (s.instances.length > 0) {
    const rows = s.instances.map((i) => [i.id, i.version, i.port, i.state, i.health, i.pid, i.restarts]);
    lines.push(
      table(["INSTANCE", "VERSION", "PORT", "STATE", "HEALTH", "PID", "RESTARTS"], rows).replace(/^/gm, "  "),
    );
  }
  return lines.join("\n");
}

/** "v2 for staff, beta and 10% of users (by x-user-id); v1 for everyone else". */
function cohortsText(c: RouteCohorts): string {
  const who = [...c.groups.map((g) => g.name), ...(c.percent > 0 ? [`${c.percent}% of users`] : [])];
  const key = [
    c.userKey.header && `header ${c.userKey.header}`,
    c.userKey.cookie && `cookie ${c.userKey.cookie}`,
  ]
    .filter(Boolean)
    .join(" or ");
  return `${c.candidate} for ${who.join(", ") || "nobody yet"} (users by ${key}); ${c.stable} for everyone else`;
}
