import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, gantry, type RunningGantry, up, waitUntil } from "./harness.ts";

let running: RunningGantry | undefined;
let alertmanager: ChildProcess | undefined;
afterEach(async () => {
  if (alertmanager && alertmanager.exitCode === null) {
    const exited = new Promise((r) => alertmanager!.once("exit", r));
    alertmanager.kill("SIGTERM");
    await exited;
  }
  alertmanager = undefined;
  if (running) await running.interrupt();
  running = undefined;
});

/** Debian's prometheus-alertmanager, sending every group to Gantry's receiver with a bearer token. */
async function startAlertmanager(gantryUrl: string, token: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "gantry-am-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "alertmanager.yml"),
    `route:
  receiver: gantry
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: gantry
    webhook_configs:
      - url: ${gantryUrl}/api/v1/integrations/alertmanager
        send_resolved: true
        http_config:
          authorization: { type: Bearer, credentials: ${token} }
`,
  );
  alertmanager = spawn(
    "prometheus-alertmanager",
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true,
    15_000,
    "alertmanager",
  );
  return url;
}

async function postAlerts(url: string, alerts: unknown[]): Promise<void> {
  const response = await fetch(`${url}/api/v2/alerts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(alerts),
  });
  expect(response.status).toBe(200);
}

type Listed = {
  id: number;
  severity: string;
  status: string;
  source: string;
  postmortemDue: boolean;
  closed: boolean;
};

describe("Alertmanager's webhook", () => {
  it("opens one incident per alert group with a bearer token, and resolves it when Alertmanager does", async () => {
    running = await up();
    const g = running;
    const created = await gantry(g.dataDir, ["tokens", "create", "--role", "alerter", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const token = JSON.parse(created.stdout).token as string;
    const am = await startAlertmanager(g.apiUrl, token);
    const now = Date.now();
    const alert = (instance: string, endsAt: number) => ({
      labels: { alertname: "CheckoutLatency", service: "checkout", severity: "critical", instance },
      annotations: { summary: `p99 above 1s on ${instance}` },
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(endsAt).toISOString(),
    });
    await postAlerts(am, [alert("a:9000", now + 3_600_000), alert("b:9000", now + 3_600_000)]);
    const list = async () =>
      JSON.parse((await gantry(g.dataDir, ["incidents", "list", "--all", "--json"])).stdout)
        .incidents as Listed[];
    await waitUntil(async () => (await list()).length > 0, 15_000, "an incident from Alertmanager");
    await waitUntil(
      async () => {
        const shown = JSON.parse((await gantry(g.dataDir, ["incidents", "show", "1", "--json"])).stdout);
        return shown.alerts.length === 2;
      },
      10_000,
      "both alerts of the group",
    );
    expect(await list()).toMatchObject([
      { id: 1, severity: "critical", status: "triggered", source: "alertmanager" },
    ]);
    const show = await gantry(g.dataDir, ["incidents", "show", "1"]);
    expect(show.stdout).toContain("CheckoutLatency: p99 above 1s on a:9000");
    expect(show.stdout).toContain("CheckoutLatency: p99 above 1s on b:9000");
    // Alertmanager resolves them: so does Gantry, and the critical incident waits for its postmortem.
    await postAlerts(am, [alert("a:9000", Date.now()), alert("b:9000", Date.now())]);
    await waitUntil(async () => (await list())[0]?.status === "resolved", 20_000, "the resolution");
    expect((await list())[0]).toMatchObject({ postmortemDue: true, closed: false });
    expect((await gantry(g.dataDir, ["incidents", "list"])).stdout).toMatch(
      /1\s+critical\s+resolved, postmortem due/,
    );
  });

  it("refuses a payload without a token, with a token that may not alert, and of another version", async () => {
    running = await up();
    const g = running;
    const viewer = JSON.parse(
      (await gantry(g.dataDir, ["tokens", "create", "--role", "viewer", "--json"])).stdout,
    ).token;
    const alerter = JSON.parse(
      (await gantry(g.dataDir, ["tokens", "create", "--role", "alerter", "--json"])).stdout,
    ).token;
    const post = (token: string | undefined, body: unknown) =>
      fetch(`${g.apiUrl}/api/v1/integrations/alertmanager`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });
    const payload = {
      version: "4",
      groupKey: '{}:{alertname="X"}',
      status: "firing",
      receiver: "gantry",
      alerts: [
        {
          status: "firing",
          labels: { alertname: "X" },
          startsAt: new Date().toISOString(),
          fingerprint: "abc",
        },
      ],
    };
    expect((await post(undefined, payload)).status).toBe(401);
    const forbidden = await post(viewer, payload);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { message: string } }).error.message).toContain(
      "needs alerter",
    );
    const old = await post(alerter, { ...payload, version: "3" });
    expect(old.status).toBe(400);
    expect(((await old.json()) as { error: { message: string } }).error.message).toContain(
      'version: Gantry reads Alertmanager webhook payloads of version "4"',
    );
    const ok = await post(alerter, payload);
    expect(ok.status).toBe(202);
    // The alerter token may send alerts, nothing else.
    const read = await fetch(`${g.apiUrl}/api/v1/incidents`, {
      headers: { authorization: `Bearer ${alerter}` },
    });
    expect(read.status).toBe(403);
  });
});
