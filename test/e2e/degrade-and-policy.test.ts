import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
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
} from "./harness.ts";

let g: RunningGantry;
let fallback: Server;
const db = join(mkdtempSync(join(tmpdir(), "gantry-e2e-db-")), "items.sqlite");

function config(fallbackPort: number): string {
  const service = (name: string, extra: string) => `  ${name}:
    command: node server.ts
    instances: 2
    env: { DEMO_DB: ${db}-${name} }
    route: { hosts: [${name}.localhost] }
    healthCheck: { path: /healthz, interval: 200ms, timeout: 1s, deadline: 15s }
    stopTimeout: 5s
${extra}`;
  return `services:
${service(
  "web",
  `    strategy: { type: rolling, during: read-only }
    readOnly: { allowPaths: [/login], retryAfter: 7s }
    fallback: { url: "http://127.0.0.1:${fallbackPort}" }
    breaker: { consecutiveFailures: 5, cooldown: 1s, halfOpenRequests: 2 }
`,
)}${service("api", "")}${service("pay", "    requireApproval: true\n")}`;
}

/** A request to the web service through the router (undici: fetch would not send our Host header). */
async function web(
  path = "/",
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
) {
  const response = await request(`${g.routerUrl}${path}`, {
    method: (init.method ?? "GET") as "GET",
    body: init.body ?? null,
    headers: { host: "web.localhost", ...init.headers },
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: { get: (name: string) => (response.headers[name] as string | undefined) ?? null },
    text: async () => text,
    json: async () => JSON.parse(text),
  };
}
const deploy = (service: string, version: string, ...extra: string[]) =>
  gantry(g.dataDir, ["deploy", service, "--artifact", demoApp, "--version", version, "--wait", ...extra]);
const json = async (args: string[]) => JSON.parse((await gantry(g.dataDir, [...args, "--json"])).stdout);

beforeAll(async () => {
  fallback = createServer((_req, res) => res.end("static fallback"));
  await new Promise<void>((r) => fallback.listen(0, "127.0.0.1", r));
  g = await up({ config: config((fallback.address() as { port: number }).port) });
  for (const [service, version] of [
    ["web", "v1"],
    ["api", "2.2.0"],
  ])
    expect((await deploy(service!, version!)).code).toBe(0);
});
afterAll(async () => {
  await g.interrupt();
  fallback.close();
});

describe("service modes", () => {
  it("keeps reads up and refuses writes in read-only mode while a rollout runs, losing no write", async () => {
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 150, postEvery: 3 });
    await sleep(400);
    expect((await deploy("web", "v2")).code).toBe(0);
    await sleep(400);
    const samples = await load.stop();
    const refused = samples.filter((s) => s.post && s.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((s) => s.retryAfter === "7")).toBe(true);
    expect(failures(samples.filter((s) => !s.post))).toEqual([]);
    expect(failures(samples, (s) => s.post && s.status === 503)).toEqual([]);
    const stored = (await (await web("/items")).json()) as { items: unknown[] };
    expect(stored.items).toHaveLength(samples.filter((s) => s.post && s.status === 201).length);
    const last = samples.filter((s) => s.post).at(-1)!;
    expect(last.status).toBe(201);
  });

  it("switches to read-only by hand, keeps allowed paths writable, and ends the mode by itself", async () => {
    expect(
      (await gantry(g.dataDir, ["mode", "web", "read-only", "--for", "2s", "--reason", "db maintenance"]))
        .code,
    ).toBe(0);
    const refused = await web("/items", {
      method: "POST",
      body: '{"name":"x"}',
      headers: { accept: "text/html" },
    });
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain("Read-only");
    expect((await web("/login", { method: "POST" })).status).toBe(404); // reached the app: /login stays writable
    expect((await web("/")).status).toBe(200);
    const status = (await json(["status", "web"])).services[0];
    expect(status.mode).toBe("read-only");
    expect(status.switches.mode).toMatchObject({ mode: "read-only", reason: "db maintenance" });
    await sleep(2300);
    expect((await web("/items", { method: "POST", body: '{"name":"after"}' })).status).toBe(201);
    expect((await json(["status", "web"])).services[0].mode).toBe("normal");
    await waitUntil(
      async () => (await json(["audit", "--action", "mode.expired"])).events.length === 1,
      5000,
      "mode.expired",
    );
  });

  it("answers everything with the maintenance page in maintenance mode", async () => {
    expect((await gantry(g.dataDir, ["mode", "web", "maintenance"])).code).toBe(0);
    const page = await web("/");
    expect(page.status).toBe(503);
    expect(page.headers.get("retry-after")).toBe("5");
    expect((await gantry(g.dataDir, ["mode", "web", "normal"])).code).toBe(0);
    expect((await web("/")).status).toBe(200);
  });
});

describe("circuit breaker and fallback", () => {
  it("opens on failures and falls back, half-opens, and closes when the service recovers", async () => {
    expect((await deploy("web", "v3", "--env", "DEMO_FAIL_RATE=1")).code).toBe(0);
    for (let i = 0; i < 5; i++) expect((await web("/")).status).toBe(500);
    expect(await (await web("/")).text()).toBe("static fallback");
    expect((await json(["status", "web"])).services[0].breaker).toBe("open");
    expect((await deploy("web", "v4")).code).toBe(0);
    await sleep(1100);
    await waitUntil(
      async () => (await web("/")).headers.get("x-demo-version") === "v4",
      5000,
      "trial requests to reach v4",
    );
    await waitUntil(
      async () => {
        await web("/");
        return (await json(["status", "web"])).services[0].breaker === "closed";
      },
      5000,
      "the breaker to close",
    );
  });

  it("can be held open by hand ahead of a risky change, and given back", async () => {
    expect((await gantry(g.dataDir, ["breaker", "web", "open", "--reason", "risky change"])).code).toBe(0);
    expect(await (await web("/")).text()).toBe("static fallback");
    expect((await gantry(g.dataDir, ["breaker", "web", "auto"])).code).toBe(0);
    expect((await web("/")).headers.get("x-demo-version")).toBe("v4");
  });
});

describe("release policy", () => {
  it("refuses a deploy in a freeze, allows an admin override with a reason, and records it", async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      (
        await gantry(g.dataDir, [
          "freeze",
          "create",
          "release-day",
          "--from",
          from,
          "--to",
          to,
          "--service",
          "api",
          "--reason",
          "launch",
        ])
      ).code,
    ).toBe(0);
    const refused = await deploy("api", "2.3.0");
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('release freeze "release-day" is in force (launch)');

    const deployer = (
      await gantry(g.dataDir, ["tokens", "create", "--role", "deployer", "--name", "dana"])
    ).stdout.trim();
    const notAdmin = await gantry(
      g.dataDir,
      ["deploy", "api", "--artifact", demoApp, "--version", "2.3.0", "--override", "--reason", "hotfix"],
      { GANTRY_TOKEN: deployer },
    );
    expect(notAdmin.code).toBe(3);
    expect((await deploy("api", "2.3.0", "--override")).stderr).toContain("an override needs a reason");
    expect((await deploy("api", "2.3.0", "--override", "--reason", "security hotfix")).code).toBe(0);
    const [override] = (await json(["audit", "--action", "deploy.override"])).events;
    expect(override).toMatchObject({ actor: "local-admin", service: "api", reason: "security hotfix" });
    expect((await gantry(g.dataDir, ["rollback", "api", "--wait"])).code).toBe(0); // rollbacks are never blocked
    expect((await gantry(g.dataDir, ["freeze", "delete", "release-day"])).code).toBe(0);
  });

  it("refuses a release whose requirement is not met, and a rollback that would break a dependant", async () => {
    const refused = await deploy("web", "v5", "--require", "api>=2.3");
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("web v5 requires api >=2.3, but api 2.2.0 is live");
    expect((await deploy("api", "2.4.0")).code).toBe(0);
    expect((await deploy("web", "v6", "--require", "api>=2.3")).code).toBe(0);
    const rollback = await gantry(g.dataDir, ["rollback", "api"]);
    expect(rollback.code).toBe(5);
    expect(rollback.stderr).toContain("web v6 requires api >=2.3, but api 2.2.0 would be live");
    expect((await gantry(g.dataDir, ["rollback", "api", "--force", "--wait"])).code).toBe(0);
  });

  it("refuses deploys of a locked service and shows the lock", async () => {
    expect((await gantry(g.dataDir, ["lock", "web", "--reason", "incident 42"])).code).toBe(0);
    expect((await gantry(g.dataDir, ["status", "web"])).stdout).toContain("LOCKED by local-admin");
    const refused = await deploy("web", "v7");
    expect(refused.stderr).toContain("incident 42");
    expect((await gantry(g.dataDir, ["unlock", "web"])).code).toBe(0);
  });

  it("starts a deploy that needs approval only when a second person approves it", async () => {
    const started = JSON.parse(
      (await gantry(g.dataDir, ["deploy", "pay", "--artifact", demoApp, "--version", "v1", "--json"])).stdout,
    );
    expect(started.rollout.status).toBe("awaiting_approval");
    const self = await gantry(g.dataDir, ["approve", String(started.rollout.id)]);
    expect(self.code).toBe(3);
    expect(self.stderr).toContain("a second person must approve");
    const reviewer = (
      await gantry(g.dataDir, ["tokens", "create", "--role", "deployer", "--name", "rita"])
    ).stdout.trim();
    expect(
      (await gantry(g.dataDir, ["approve", String(started.rollout.id)], { GANTRY_TOKEN: reviewer })).code,
    ).toBe(0);
    await waitUntil(
      async () => (await json(["status", "pay"])).services[0].liveVersion === "v1",
      20_000,
      "pay v1 to go live",
    );
    const [approved] = (await json(["audit", "--action", "rollout.approved"])).events;
    expect(approved.actor).toBe("rita");
  });
});
