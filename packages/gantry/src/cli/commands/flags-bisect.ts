import { setTimeout as sleep } from "node:timers/promises";
import { GantryError } from "../../errors/index.ts";
import { type BisectPlan, type BisectRecord, prefixWords } from "../../flags/index.ts";
import type { ApiClient } from "../api-client.ts";
import { exitCodes } from "../exit-codes.ts";
import { printJson, table } from "../render.ts";
import { reasonOf } from "./flags-common.ts";

type Values = Record<string, unknown>;
type Bisect = Omit<BisectRecord, "internal">;

export const bisectUsage =
  "gantry flags bisect --env E --since 2h --check CHECK [--on ENV] [--settle 2s] [--window 10s] [--min-requests 20] [--samples 20] [--timeout 5s] [--reason TEXT] [--dry-run] | bisect list | bisect show ID | bisect cancel ID";

export const bisectHelp = `  bisect --env E --since 2h --check CHECK [--on ENV] [--dry-run]
                                       find the flag change (in E since then) that brought a
                                       regression in: applies halves of the changes, runs CHECK
                                       after each, names the change in at most ⌈log2 n⌉+1 checks,
                                       then restores every flag. E serves the reverted flags while
                                       it runs (admin for a protected E); --on staging tries E's
                                       changes in staging instead. Ctrl-C stops it and restores.
       CHECK: "http:GET http://host/path [header:NAME=VALUE] [status<500]" (--samples requests,
       all must answer so; --timeout each) or "sli:SERVICE error-rate<1%[,p99<300ms]" (the
       router's counts over --window, at least --min-requests). --settle: wait after each change.
  bisect list | bisect show ID | bisect cancel ID`;

/** gantry flags bisect ... | list | show ID | cancel ID */
export async function bisectAction(client: ApiClient, values: Values, rest: string[]): Promise<number> {
  const action = rest[0];
  if (action === "list") return list(client, values);
  if (action === "show") return show(client, values, idOf(rest[1]));
  if (action === "cancel") return cancel(client, values, idOf(rest[1]));
  if (action !== undefined)
    throw new GantryError("BAD_REQUEST", `unknown bisect action "${action}"\nusage: ${bisectUsage}`);
  return run(client, values);
}

function idOf(text: string | undefined): number {
  const id = Number(text);
  if (!text || !Number.isInteger(id) || id < 1)
    throw new GantryError(
      "BAD_REQUEST",
      `${text === undefined ? "missing ID" : `"${text}" is not a bisection id`} (gantry flags bisect list shows them)`,
      { field: "id" },
    );
  return id;
}

function required(values: Values, option: string, example: string): string {
  const value = values[option];
  if (typeof value !== "string" || value === "")
    throw new GantryError(
      "BAD_REQUEST",
      `--${option} is required to bisect (e.g. --${option} ${example})\nusage: ${bisectUsage}`,
      {
        field: option,
      },
    );
  return value;
}

function count(values: Values, option: string): number | undefined {
  const text = values[option];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new GantryError("BAD_REQUEST", `--${option} ${String(text)} is not a whole number of at least 1`, {
      field: option,
    });
  return n;
}

async function run(client: ApiClient, values: Values): Promise<number> {
  const body = {
    environment: required(values, "env", "production"),
    since: required(values, "since", "2h"),
    check: required(values, "check", '"http:GET http://127.0.0.1:8080/ status<500"'),
    ...(typeof values.on === "string" && { on: values.on }),
    ...(typeof values.settle === "string" && { settle: values.settle }),
    ...(typeof values.window === "string" && { window: values.window }),
    ...(typeof values.timeout === "string" && { timeout: values.timeout }),
    ...(count(values, "samples") !== undefined && { samples: count(values, "samples") }),
    ...(count(values, "min-requests") !== undefined && { minRequests: count(values, "min-requests") }),
    ...(values["dry-run"] === true && { dryRun: true }),
    ...reasonOf(values),
  };
  const started = await client.request<{ plan?: BisectPlan; bisect?: Bisect }>(
    "POST",
    "/api/v1/flag-bisects",
    body,
  );
  if (started.plan) {
    if (values.json) printJson({ plan: started.plan });
    else process.stdout.write(planText(started.plan, values["dry-run"] === true));
    return started.plan.changes.length === 0 && values["dry-run"] !== true ? exitCodes.failed : exitCodes.ok;
  }
  let bisect = started.bisect!;
  const quiet = values.json === true;
  if (!quiet) process.stdout.write(header(bisect));

  // Ctrl-C: ask the server to stop and restore, and say what it restored. A second one leaves
  // at once (the server restores all the same).
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write("\ncancelling: restoring every flag as it was (Ctrl-C again to leave now)\n");
    void client
      .request(
        "DELETE",
        `/api/v1/flag-bisects/${bisect.id}?reason=${encodeURIComponent("Ctrl-C of gantry flags bisect")}`,
      )
      .catch(() => undefined);
  };
  process.on("SIGINT", onInterrupt);
  try {
    let shown = 0;
    for (;;) {
      if (!quiet)
        for (; shown < bisect.steps.length; shown++)
          process.stdout.write(stepLine(bisect, bisect.steps[shown]!));
      if (bisect.status !== "running") break;
      await sleep(250);
      bisect = (await client.request<{ bisect: Bisect }>("GET", `/api/v1/flag-bisects/${bisect.id}`)).bisect;
    }
  } finally {
    process.off("SIGINT", onInterrupt);
  }
  if (quiet) printJson({ bisect });
  else process.stdout.write(resultText(bisect));
  if (bisect.status === "found") return exitCodes.ok;
  return interrupted ? 130 : exitCodes.failed;
}

async function list(client: ApiClient, values: Values): Promise<number> {
  const { bisects } = await client.request<{ bisects: Bisect[] }>("GET", "/api/v1/flag-bisects");
  if (values.json) printJson({ bisects });
  else
    process.stdout.write(
      `${table(
        ["ID", "STARTED", "ENV", "CHANGES", "CHECKS", "STATUS", "BY", "CHECK"],
        bisects.map((b) => [
          b.id,
          b.startedAt,
          b.source === b.target ? b.target : `${b.source}→${b.target}`,
          b.changes.length,
          `${b.steps.length}/${b.maxChecks}`,
          b.status === "found" && b.result?.kind === "found" ? `found #${b.result.change}` : b.status,
          b.actor,
          b.check,
        ]),
      )}\n`,
    );
  return 0;
}

async function show(client: ApiClient, values: Values, id: number): Promise<number> {
  const { bisect } = await client.request<{ bisect: Bisect }>("GET", `/api/v1/flag-bisects/${id}`);
  if (values.json) printJson({ bisect });
  else
    process.stdout.write(
      `${header(bisect)}${bisect.steps.map((s) => stepLine(bisect, s)).join("")}${bisect.status === "running" ? "still running\n" : resultText(bisect)}`,
    );
  return 0;
}

async function cancel(client: ApiClient, values: Values, id: number): Promise<number> {
  const query = typeof values.reason === "string" ? `?reason=${encodeURIComponent(values.reason)}` : "";
  const { bisect } = await client.request<{ bisect: Bisect }>("DELETE", `/api/v1/flag-bisects/${id}${query}`);
  if (values.json) printJson({ bisect });
  else process.stdout.write(resultText(bisect));
  return 0;
}

function planText(plan: BisectPlan, dryRun: boolean): string {
  if (plan.changes.length === 0)
    return `no change to what ${plan.source} serves since ${plan.since}: nothing to bisect\n`;
  const where = plan.source === plan.target ? plan.target : `${plan.target} (with ${plan.source}'s changes)`;
  const lines = [
    `${plan.changes.length} changes to ${plan.source} since ${plan.since}; at most ${plan.maxChecks} checks of ${plan.check}, changing ${where} while it runs${dryRun ? " (dry run: nothing changed)" : ""}`,
    table(
      ["#", "AT", "ITEM", "ACTION", "BY", "REASON"],
      plan.changes.map((c) => [c.seq, c.at, `${c.kind} ${c.key}`, c.action, c.actor, c.reason]),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

function header(b: Bisect): string {
  const where =
    b.source === b.target
      ? `${b.target} serves the reverted flags while it runs`
      : `tried in ${b.target}, which serves the reverted flags while it runs (${b.source} is left alone)`;
  return `bisect #${b.id}: ${b.changes.length} changes to ${b.source} since ${b.since}, at most ${b.maxChecks} checks of ${b.check}; ${where}\n`;
}

function stepLine(b: Bisect, s: Bisect["steps"][number]): string {
  return `check ${s.check}/${b.maxChecks}: ${prefixWords(s.prefix, b.changes.length)} → ${s.passed ? "pass" : "FAIL"} (${s.detail})\n`;
}

function resultText(b: Bisect): string {
  const lines: string[] = [];
  const result = b.result;
  const n = b.changes.length;
  if (result?.kind === "found") {
    const c = b.changes[result.change - 1]!;
    lines.push(
      `the regression comes with change ${c.seq} of ${n}: ${c.kind} ${c.key} ${c.action.split(".").at(-1)} by ${c.actor} at ${c.at}${c.reason ? ` ("${c.reason}")` : ""} [audit #${c.auditId}]`,
    );
    if (c.fields.length > 0) lines.push(`  changed: ${c.fields.join(", ")}`);
    const without = result.change - 1;
    lines.push(
      `  ${result.proof.passedWithout ? "passed" : "assumed to pass"} with ${prefixWords(without, n)}; ${result.proof.failedWith ? "failed" : "assumed to fail"} with ${prefixWords(result.change, n)}`,
    );
    lines.push(`found in ${b.steps.length} checks (at most ${b.maxChecks})`);
  } else if (result?.kind === "not-a-flag") lines.push(`no flag change to blame: ${result.reason}`);
  else if (result?.kind === "failed") lines.push(`the bisection stopped: ${result.message}`);
  else if (result?.kind === "cancelled") lines.push(`cancelled by ${result.by}: ${result.reason}`);
  const restore = b.restore;
  if (restore) {
    if (restore.left.length === 0)
      lines.push(
        `restored: every flag as it was before the bisection (the ${restore.restored.length} flags, segments and plans the window changed)`,
      );
    else {
      lines.push(`restored ${restore.restored.length}; NOT restored:`);
      for (const l of restore.left) lines.push(`  ${l.item}: ${l.why}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
