import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { constantLoad, gantry, type RunningGantry, up } from "./harness.ts";
import { call, createToken } from "./ofrep-support.ts";

/**
 * A service deployed by Gantry whose every request asks Gantry over OFREP whether the new
 * pricing is on, and fails when it is: the regression shows only in the router's counts.
 */
const SHOP = `import { createServer } from "node:http";
const api = process.env.GANTRY_API;
const token = process.env.SHOP_FLAGS_TOKEN;
createServer(async (req, res) => {
  if (req.url === "/healthz") return res.end("ok");
  const answer = await fetch(api + "/ofrep/v1/evaluate/flags/pricing-v2", {
    method: "POST",
    headers: { authorization: "Bearer " + token, "content-type": "application/json" },
    body: JSON.stringify({ context: { targetingKey: "shopper-" + Math.floor(Math.random() * 1000) } }),
  });
  const pricing = await answer.json();
  res.writeHead(pricing.value === true ? 500 : 200).end(pricing.value === true ? "NaN" : "ok");
}).listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
`;

const CONFIG = `flags:
  environments: [staging, production]
services:
  shop:
    command: node shop.ts
    instances: 1
    route: { hosts: [shop.localhost], default: true }
    healthCheck: { path: /healthz, interval: 200ms, timeout: 1s, deadline: 15s }
    stopTimeout: 2s
`;

const FLAGS = ["search-v2", "dark-mode", "pricing-v2", "reviews", "new-footer", "fast-checkout"];

let g: RunningGantry;
let load: ReturnType<typeof constantLoad>;
let since: string;

beforeAll(async () => {
  g = await up({ config: CONFIG });
  const artifact = mkdtempSync(join(tmpdir(), "gantry-shop-"));
  writeFileSync(join(artifact, "shop.ts"), SHOP);
  const token = await createToken(g, "sdk", "production");
  const deployed = await gantry(g.dataDir, [
    "deploy",
    "shop",
    "--artifact",
    artifact,
    "--version",
    "v1",
    "--env",
    `SHOP_FLAGS_TOKEN=${token}`,
    "--wait",
  ]);
  expect(deployed.code, deployed.stderr).toBe(0);
  for (const key of FLAGS) {
    const created = await call(g, "POST", "/api/v1/flags", {
      body: { key, type: "boolean", variants: { on: true, off: false }, defaultVariant: "off" },
    });
    expect(created.status, created.text).toBe(201);
  }
  since = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  // Eight changes; the third turns the broken pricing on.
  const changes: [string, object][] = [
    ["search-v2", { enabled: true, fallthrough: { variant: "on" } }],
    ["dark-mode", { enabled: true, fallthrough: { variant: "on" } }],
    ["pricing-v2", { enabled: true, fallthrough: { variant: "on" } }],
    ["reviews", { enabled: true, fallthrough: { variant: "on" } }],
    ["dark-mode", { enabled: false }],
    ["new-footer", { enabled: true, fallthrough: { variant: "on" } }],
    ["fast-checkout", { enabled: true, fallthrough: { variant: "on" } }],
    ["search-v2", { enabled: false }],
  ];
  for (const [key, environment] of changes) {
    const changed = await call(g, "PUT", `/api/v1/flags/${key}/environments/production`, {
      body: environment,
    });
    expect(changed.status, changed.text).toBe(200);
  }
  load = constantLoad({ url: g.routerUrl, host: "shop.localhost", rps: 60 });
});
afterAll(async () => {
  await load?.stop();
  await g?.interrupt();
});

describe("gantry flags bisect with an SLI check", () => {
  it("finds the flag behind a service's error rate from the router's counts, and restores every flag", async () => {
    const before = (await call(g, "GET", "/api/v1/flag-set")).json.flagSet;
    const run = await gantry(g.dataDir, [
      "flags",
      "bisect",
      "--env",
      "production",
      "--since",
      since,
      "--check",
      "sli:shop error-rate<5%",
      "--settle",
      "500ms",
      "--window",
      "2s",
    ]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain("at most 4 checks of sli:shop error-rate<5%");
    expect(run.stdout).toMatch(/→ FAIL \(error rate 100\.00% \(\d+\/\d+\) breaks error-rate<5%\)/);
    expect(run.stdout).toMatch(/→ pass \(error rate 0\.00% \(0\/\d+\) meets error-rate<5%\)/);
    expect(run.stdout).toContain("the regression comes with change 3 of 8: flag pricing-v2 updated");
    expect(run.stdout.split("\n").filter((l) => l.startsWith("check ")).length).toBeLessThanOrEqual(4);
    expect(run.stdout).toContain("restored: every flag as it was");
    expect((await call(g, "GET", "/api/v1/flag-set")).json.flagSet).toEqual(before);
  });

  it("says there is too little traffic to judge rather than passing, and restores", async () => {
    const before = (await call(g, "GET", "/api/v1/flag-set")).json.flagSet;
    const run = await gantry(g.dataDir, [
      "flags",
      "bisect",
      "--env",
      "production",
      "--since",
      since,
      "--check",
      "sli:shop error-rate<5%",
      "--settle",
      "100ms",
      "--window",
      "500ms",
      "--min-requests",
      "100000",
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /the bisection stopped: too little traffic to judge: \d+ requests to shop in 500ms \(the check needs 100000\)/,
    );
    expect(run.stdout).toContain("restored: every flag as it was");
    expect((await call(g, "GET", "/api/v1/flag-set")).json.flagSet).toEqual(before);
  });
});
