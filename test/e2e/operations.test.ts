import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  constantLoad,
  demoApp,
  failures,
  gantry,
  type RunningGantry,
  sleep,
  up,
  waitUntil,
  webConfig,
} from "./harness.ts";

let g: RunningGantry;
let token: string;
const api = (path: string, init: RequestInit = {}) =>
  fetch(`${g.apiUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers },
  });

beforeAll(async () => {
  g = await up({ config: webConfig("{ type: rolling }") });
  token = readFileSync(join(g.dataDir, "token"), "utf8").trim();
  expect(
    (await gantry(g.dataDir, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"])).code,
  ).toBe(0);
});
afterAll(async () => {
  await g.interrupt();
});

describe("operating Gantry", () => {
  it("keeps the admin token readable by its owner only", () => {
    expect(statSync(join(g.dataDir, "token")).mode & 0o777).toBe(0o600);
  });

  it("exposes request metrics with the build version as a label on /metrics", async () => {
    for (let i = 0; i < 20; i++) await fetch(g.routerUrl, { headers: { host: "web.localhost" } });
    const text = await (await api("/metrics")).text();
    expect(text).toMatch(/gantry_http_requests_total\{service="web",version="v1",code="2xx"\} \d+/);
    expect(text).toMatch(
      /gantry_http_request_duration_seconds_bucket\{le="0\.005",service="web",version="v1"\}/,
    );
    expect(text).toMatch(/gantry_service_live_version_info\{service="web",version="v1"\} 1/);
    expect((await fetch(`${g.apiUrl}/metrics`)).status).toBe(401);
  });

  it("serves its OpenAPI document", async () => {
    const doc = (await (await api("/api/v1/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/api/v1/services/{service}/rollouts");
  });

  it("declares a service through the API, refusing an invalid one with the field named", async () => {
    const bad = await api("/api/v1/services/api2", {
      method: "PUT",
      body: JSON.stringify({ command: "x", instances: 0 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("instances");
    const good = await api("/api/v1/services/api2", {
      method: "PUT",
      body: JSON.stringify({ command: "node server.ts", route: { hosts: ["api2.localhost"] } }),
    });
    expect(good.status).toBe(200);
    const status = JSON.parse((await gantry(g.dataDir, ["status", "--json"])).stdout);
    expect(status.services.map((s: { service: string }) => s.service)).toEqual(["api2", "web"]);
  });

  it("shows instance logs prefixed with the instance id", async () => {
    const logs = await gantry(g.dataDir, ["logs", "web", "--version", "v1"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/^web-v1-[0-9a-f]{6} \| demo-app web v1 .* listening/m);
  });

  it("takes a crashed instance out of rotation and restarts it, failing no request", async () => {
    const before = JSON.parse((await gantry(g.dataDir, ["status", "web", "--json"])).stdout).services[0];
    const victim = before.instances[0];
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 150 });
    await sleep(300);
    process.kill(victim.pid, "SIGKILL");
    await waitUntil(
      async () => {
        const now = JSON.parse((await gantry(g.dataDir, ["status", "web", "--json"])).stdout).services[0];
        const same = now.instances.find((i: { id: string }) => i.id === victim.id);
        return same && same.restarts >= 1 && same.health === "healthy";
      },
      20_000,
      "the crashed instance to be restarted and healthy",
    );
    const samples = await load.stop();
    expect(failures(samples)).toEqual([]);
  });

  it("records every change in the audit trail with actor and time", async () => {
    const { events } = JSON.parse((await gantry(g.dataDir, ["audit", "--since", "1h", "--json"])).stdout);
    const actions = events.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        "service.declared",
        "release.created",
        "rollout.started",
        "rollout.step",
        "rollout.succeeded",
      ]),
    );
    const started = events.find((e: { action: string }) => e.action === "rollout.started");
    expect(started.actor).toBe("local-admin");
    expect(Date.parse(started.at)).toBeGreaterThan(Date.now() - 3_600_000);
  });
});
