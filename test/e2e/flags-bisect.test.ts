import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { OFREPProvider } from "@openfeature/ofrep-provider";
import { OpenFeature } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gantry, gantryBin, type RunningGantry, up, waitUntil } from "./harness.ts";
import { call, createToken } from "./ofrep-support.ts";

/**
 * A shop whose /checkout reads its flags from Gantry over OFREP (the real OpenFeature
 * server provider) on every request, and whose new pricing code is broken: with
 * pricing-v2 on, checkout answers 500. The other flags change what it shows, harmlessly.
 */
async function startShop(
  apiUrl: string,
  token: string,
  name: string,
): Promise<{ url: string; server: Server }> {
  await OpenFeature.setProviderAndWait(
    name,
    new OFREPProvider({ baseUrl: apiUrl, headers: [["Authorization", `Bearer ${token}`]] }),
  );
  const flags = OpenFeature.getClient(name);
  const server = createServer(async (req, res) => {
    const context = { targetingKey: "probe-user", country: "DK" };
    const page: Record<string, unknown> = {};
    for (const key of ["search-v2", "dark-mode", "recommendations", "fast-checkout", "new-footer", "reviews"])
      page[key] = await flags.getBooleanValue(key, false, context);
    page.banner = await flags.getStringValue("promo-banner", "none", context);
    if (req.url === "/checkout" && (await flags.getBooleanValue("pricing-v2", false, context))) {
      res.writeHead(500, { "content-type": "text/plain" }).end("pricing v2: price is NaN");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(page));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server };
}

const BOOLEANS = [
  "search-v2",
  "dark-mode",
  "recommendations",
  "fast-checkout",
  "new-footer",
  "reviews",
  "pricing-v2",
  "inventory-cache",
];

const CONFIG = "flags:\n  environments: [staging, production]\n";
let g: RunningGantry;
let shop: { url: string; server: Server };
/** The same shop, reading staging's flags. */
let stagingShop: { url: string; server: Server };
let since: string;

async function turn(key: string, environment: object, reason: string) {
  const response = await call(g, "PUT", `/api/v1/flags/${key}/environments/production`, {
    body: { ...environment, reason },
  });
  expect(response.status, response.text).toBe(200);
}

/** Sixteen changes to production, the eleventh of which turns the broken pricing on. */
async function sixteenChanges() {
  const on = { enabled: true, fallthrough: { variant: "on" } };
  await turn("search-v2", on, "1: new search");
  await turn("dark-mode", on, "2: dark mode");
  const promo = await call(g, "POST", "/api/v1/flags", {
    body: {
      key: "promo-banner",
      type: "string",
      variants: { none: "none", sale: "sale", spring: "spring" },
      defaultVariant: "none",
      environments: { production: { enabled: true, fallthrough: { variant: "sale" } } },
      reason: "3: promo banner",
    },
  });
  expect(promo.status, promo.text).toBe(201);
  const segment = await call(g, "PUT", "/api/v1/flag-segments/beta", {
    body: {
      rules: [[{ attribute: "country", operator: "in", values: ["DK", "SE"] }]],
      reason: "4: beta testers",
    },
  });
  expect(segment.status, segment.text).toBe(200);
  await turn(
    "recommendations",
    { enabled: true, rules: [{ clauses: [{ operator: "segmentMatch", values: ["beta"] }], variant: "on" }] },
    "5: recommendations for beta",
  );
  await turn(
    "search-v2",
    {
      enabled: true,
      fallthrough: {
        split: [
          { variant: "on", weight: 50 },
          { variant: "off", weight: 50 },
        ],
      },
    },
    "6: search v2 to half",
  );
  await turn("fast-checkout", on, "7: fast checkout");
  await turn("dark-mode", { enabled: false }, "8: dark mode off again");
  await turn("new-footer", on, "9: footer");
  await turn("reviews", on, "10: reviews");
  await turn("pricing-v2", on, "11: new pricing");
  await turn(
    "reviews",
    {
      enabled: true,
      fallthrough: {
        split: [
          { variant: "on", weight: 90 },
          { variant: "off", weight: 10 },
        ],
      },
    },
    "12: reviews to 90%",
  );
  await turn("new-footer", { enabled: true, fallthrough: { variant: "off" } }, "13: footer off");
  await turn("dark-mode", on, "14: dark mode back");
  await turn("inventory-cache", on, "15: inventory cache");
  const spring = await call(g, "PUT", "/api/v1/flags/promo-banner/environments/production", {
    body: { enabled: true, fallthrough: { variant: "spring" }, reason: "16: spring promo" },
  });
  expect(spring.status, spring.text).toBe(200);
}

/** What production serves (definitions without metadata), to compare before and after. */
async function servedState() {
  const { json } = await call(g, "GET", "/api/v1/flag-set");
  return json.flagSet;
}

beforeAll(async () => {
  g = await up({ config: CONFIG });
  for (const key of BOOLEANS) {
    const created = await call(g, "POST", "/api/v1/flags", {
      body: {
        key,
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        environments: { staging: { enabled: true, fallthrough: { variant: "on" } } },
      },
    });
    expect(created.status, created.text).toBe(201);
  }
  shop = await startShop(g.apiUrl, await createToken(g, "sdk", "production"), "shop");
  stagingShop = await startShop(g.apiUrl, await createToken(g, "sdk", "staging"), "staging-shop");
  await new Promise((r) => setTimeout(r, 20));
  since = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  await sixteenChanges();
});
afterAll(async () => {
  shop.server.close();
  stagingShop.server.close();
  await OpenFeature.close();
  await g.interrupt();
});

describe("gantry flags bisect", () => {
  it("names the planted bad flag among 16 changes in at most 5 checks, restores every flag, and audits it all", async () => {
    expect((await fetch(`${shop.url}/checkout`)).status).toBe(500);
    const before = await servedState();
    const check = `http:GET ${shop.url}/checkout status<500`;

    const dry = await gantry(g.dataDir, [
      "flags",
      "bisect",
      "--env",
      "production",
      "--since",
      since,
      "--check",
      check,
      "--dry-run",
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("16 changes to production");
    expect(dry.stdout).toContain("at most 5 checks");
    expect(dry.stdout).toContain("flag pricing-v2");

    const startedAt = Date.now();
    const run = await gantry(g.dataDir, [
      "flags",
      "bisect",
      "--env",
      "production",
      "--since",
      since,
      "--check",
      check,
      "--settle",
      "100ms",
      "--samples",
      "5",
      "--reason",
      "checkout 500s since this morning",
    ]);
    const took = Date.now() - startedAt;
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(
      "the regression comes with change 11 of 16: flag pricing-v2 updated by local-admin",
    );
    expect(run.stdout).toContain('("11: new pricing")');
    expect(run.stdout).toContain(
      "passed with changes 1–10 applied, 11–16 reverted; failed with changes 1–11 applied",
    );
    const checks = run.stdout.split("\n").filter((l) => l.startsWith("check "));
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.length).toBeLessThanOrEqual(5);
    expect(checks[0]).toContain(
      "check 1/5: changes 1–8 applied, 9–16 reverted → pass (5/5 answered status<500)",
    );
    expect(run.stdout).toContain("restored: every flag as it was before the bisection");
    expect(took).toBeLessThan(20_000);

    // Everything is as it was, and the shop is still broken (the bisection fixes nothing).
    expect(await servedState()).toEqual(before);
    expect((await fetch(`${shop.url}/checkout`)).status).toBe(500);

    const { json: bisects } = await call(g, "GET", "/api/v1/flag-bisects");
    const record = bisects.bisects[0];
    expect(record).toMatchObject({
      status: "found",
      result: { kind: "found", change: 11 },
      actor: "local-admin",
    });
    expect(record.restore.left).toEqual([]);
    expect(record).not.toHaveProperty("internal");

    const { json: audit } = await call(
      g,
      "GET",
      `/api/v1/audit?since=${encodeURIComponent(since)}&limit=1000`,
    );
    const events = audit.events as {
      action: string;
      actor: string;
      reason: string | null;
      data: Record<string, unknown>;
    }[];
    const ours = events.filter((e) => e.action.startsWith("flag-bisect."));
    expect(ours.map((e) => e.action)).toEqual([
      "flag-bisect.started",
      ...checks.map(() => "flag-bisect.checked"),
      "flag-bisect.finished",
    ]);
    for (const e of ours)
      expect(e).toMatchObject({ actor: "local-admin", reason: "checkout 500s since this morning" });
    const temporary = events.filter((e) => e.data.source === "bisect");
    expect(temporary.length).toBeGreaterThan(0);
    for (const e of temporary) {
      expect(e.actor).toBe("local-admin");
      expect(e.reason).toMatch(/^bisect #\d+: /);
    }
  });

  it("--on staging tries production's changes in staging, leaving production alone", async () => {
    // Staging has every flag on, pricing included: its checkout fails now.
    expect((await fetch(`${stagingShop.url}/checkout`)).status).toBe(500);
    const before = await servedState();
    const run = await gantry(g.dataDir, [
      "flags",
      "bisect",
      "--env",
      "production",
      "--on",
      "staging",
      "--since",
      since,
      "--check",
      `http:GET ${stagingShop.url}/checkout`,
      "--settle",
      "100ms",
      "--samples",
      "3",
    ]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(
      "tried in staging, which serves the reverted flags while it runs (production is left alone)",
    );
    expect(run.stdout).toContain("the regression comes with change 11 of 16: flag pricing-v2");
    expect(await servedState()).toEqual(before);
    const id = (await call(g, "GET", "/api/v1/flag-bisects")).json.bisects[0].id;
    const events = (await call(g, "GET", `/api/v1/audit?since=${encodeURIComponent(since)}&limit=1000`)).json
      .events as { reason: string | null; data: { source?: string; environments?: string[] } }[];
    const temporary = events.filter(
      (e) => e.data.source === "bisect" && e.reason?.startsWith(`bisect #${id}:`),
    );
    expect(temporary.length).toBeGreaterThan(0);
    for (const e of temporary) expect(e.data.environments).toEqual(["staging"]);
  });

  it("Ctrl-C stops a bisection and restores every flag", async () => {
    const before = await servedState();
    const child = spawn(
      gantryBin,
      [
        "flags",
        "bisect",
        "--env",
        "production",
        "--since",
        since,
        "--check",
        `http:GET ${shop.url}/checkout`,
        "--settle",
        "5s",
        "--data-dir",
        g.dataDir,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number>((r) => child.on("exit", (code) => r(code ?? -1)));
    await waitUntil(
      () => out.includes("serves the reverted flags while it runs"),
      10_000,
      "the bisection to start",
    );
    // The first prefix is applied before the settle wait: production now differs.
    await waitUntil(
      async () => JSON.stringify(await servedState()) !== JSON.stringify(before),
      5000,
      "a prefix applied",
    );
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(out).toContain("cancelled by local-admin: Ctrl-C of gantry flags bisect");
    expect(out).toContain("restored: every flag as it was");
    expect(await servedState()).toEqual(before);
  });

  it("stops when someone else changes one of the flags meanwhile, keeping their change", async () => {
    const started = await call(g, "POST", "/api/v1/flag-bisects", {
      body: { environment: "production", since, check: `http:GET ${shop.url}/checkout`, settle: "3s" },
    });
    expect(started.status, started.text).toBe(202);
    const id = started.json.bisect.id;
    const second = await call(g, "POST", "/api/v1/flag-bisects", {
      body: { environment: "production", since, check: `http:GET ${shop.url}/checkout` },
    });
    expect(second.status).toBe(409);
    expect(second.json.error.message).toContain(`bisection #${id} is running on production`);
    await new Promise((r) => setTimeout(r, 500));
    // A person turns fast checkout off while the first check waits.
    await turn("fast-checkout", { enabled: false }, "fast checkout double-charges");
    await waitUntil(
      async () => (await call(g, "GET", `/api/v1/flag-bisects/${id}`)).json.bisect.status !== "running",
      15_000,
      "the bisection to stop",
    );
    const { json } = await call(g, "GET", `/api/v1/flag-bisects/${id}`);
    expect(json.bisect.status).toBe("failed");
    expect(json.bisect.result.message).toContain(
      'flag "fast-checkout" was changed in production by someone else',
    );
    expect(json.bisect.restore.left).toEqual([
      {
        item: "flag/fast-checkout",
        why: "changed by someone else while the bisection ran; left as they set it",
      },
    ]);
    const flagSet = await servedState();
    expect(flagSet.flags["fast-checkout"].environments.production.enabled).toBe(false);
    expect(flagSet.flags["pricing-v2"].environments.production.enabled).toBe(true);
    expect(flagSet.flags["dark-mode"].environments.production.enabled).toBe(true);
    await turn("fast-checkout", { enabled: true, fallthrough: { variant: "on" } }, "fast checkout fixed");
  });

  it("refuses bad input naming the field and the fix", async () => {
    const bad = async (args: string[]) => gantry(g.dataDir, ["flags", "bisect", ...args]);
    const noCheck = await bad(["--env", "production", "--since", "1h"]);
    expect(noCheck.code).toBe(2);
    expect(noCheck.stderr).toContain("--check is required");
    const syntax = await bad(["--env", "production", "--since", "1h", "--check", "GET /checkout"]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain('check "GET /checkout" is neither http:... nor sli:...');
    const unknownService = await bad([
      "--env",
      "production",
      "--since",
      "1h",
      "--check",
      "sli:nope error-rate<1%",
    ]);
    expect(unknownService.stderr).toContain('names service "nope", which Gantry does not know');
    const since = await bad(["--env", "production", "--since", "yesterday", "--check", `http:${shop.url}`]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('since "yesterday" is neither a duration');
    const env = await bad(["--env", "prod", "--since", "1h", "--check", `http:${shop.url}`]);
    expect(env.code).toBe(4);
    expect(env.stderr).toContain("staging, production");

    const deployer = await createToken(g, "deployer");
    const refused = await gantry(
      g.dataDir,
      ["flags", "bisect", "--env", "production", "--since", "1h", "--check", `http:${shop.url}`],
      {
        GANTRY_TOKEN: deployer,
      },
    );
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("production is protected: it needs role admin");
    expect(refused.stderr).toContain("--on");
  });

  it("a bisection that a crash of Gantry interrupted is restored as soon as Gantry starts again", async () => {
    const before = await servedState();
    const started = await call(g, "POST", "/api/v1/flag-bisects", {
      body: { environment: "production", since, check: `http:GET ${shop.url}/checkout`, settle: "30s" },
    });
    expect(started.status, started.text).toBe(202);
    const id = started.json.bisect.id;
    await waitUntil(
      async () => JSON.stringify(await servedState()) !== JSON.stringify(before),
      5000,
      "a prefix applied",
    );
    await g.kill();
    g = await up({ config: CONFIG, dataDir: g.dataDir, routerPort: g.routerPort, adminPort: g.adminPort });
    expect(await servedState()).toEqual(before);
    const { json } = await call(g, "GET", `/api/v1/flag-bisects/${id}`);
    expect(json.bisect).toMatchObject({
      status: "interrupted",
      result: { kind: "cancelled", by: "gantry", reason: "interrupted: Gantry stopped while it ran" },
      restore: { left: [] },
    });
    expect(json.bisect.finishedAt).not.toBeNull();
  });

  it("stopping Gantry (Ctrl-C) cancels a running bisection and restores every flag first", async () => {
    const before = await servedState();
    const started = await call(g, "POST", "/api/v1/flag-bisects", {
      body: { environment: "production", since, check: `http:GET ${shop.url}/checkout`, settle: "30s" },
    });
    const id = started.json.bisect.id;
    await waitUntil(
      async () => JSON.stringify(await servedState()) !== JSON.stringify(before),
      5000,
      "a prefix applied",
    );
    expect(await g.interrupt()).toBe(0);
    g = await up({ config: CONFIG, dataDir: g.dataDir, routerPort: g.routerPort, adminPort: g.adminPort });
    expect(await servedState()).toEqual(before);
    const { json } = await call(g, "GET", `/api/v1/flag-bisects/${id}`);
    expect(json.bisect).toMatchObject({
      status: "cancelled",
      result: { kind: "cancelled", by: "gantry", reason: "Gantry is shutting down" },
      restore: { left: [] },
    });
  });
});
