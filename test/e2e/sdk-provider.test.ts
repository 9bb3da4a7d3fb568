import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GantryProvider, type GantryProviderOptions } from "@gantry/sdk/openfeature";
import { type EventDetails, OpenFeature, ProviderEvents, ProviderStatus } from "@openfeature/server-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { gantry, type RunningGantry, repoRoot, sleep, up, waitUntil } from "./harness.ts";

const CONFIG = "flags:\n  environments: [development, staging, production]\n";

let g: RunningGantry;
let admin: string;
let sdkToken: string;
beforeAll(async () => {
  g = await up({ config: CONFIG });
  admin = readFileSync(`${g.dataDir}/token`, "utf8").trim();
  sdkToken = await token(g, "sdk", "production");
});
afterAll(async () => {
  await g.interrupt();
});

// Every provider a test starts, closed after it however the test ends.
const started: GantryProvider[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.onClose()));
});

async function api(method: string, path: string, body?: unknown, at: RunningGantry = g) {
  const response = await fetch(`${at.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever the API answers
  return { status: response.status, json: (text ? JSON.parse(text) : null) as any };
}

async function token(at: RunningGantry, role: string, env?: string): Promise<string> {
  const created = await gantry(at.dataDir, [
    "tokens",
    "create",
    "--role",
    role,
    ...(env ? ["--env", env] : []),
  ]);
  expect(created.code, created.stderr).toBe(0);
  return created.stdout.trim();
}

const bool = (production: object) => ({
  type: "boolean",
  variants: { on: true, off: false },
  defaultVariant: "off",
  environments: { production },
});

async function createFlag(key: string, definition: object, at: RunningGantry = g) {
  const created = await api("POST", "/api/v1/flags", { key, ...definition }, at);
  expect(created.status, JSON.stringify(created.json)).toBe(201);
}

async function setProduction(key: string, environment: object, at: RunningGantry = g) {
  const changed = await api("PUT", `/api/v1/flags/${key}/environments/production`, environment, at);
  expect(changed.status, JSON.stringify(changed.json)).toBe(200);
  return changed.json;
}

interface Seen {
  event: ProviderEvents;
  at: number;
  details: EventDetails | undefined;
}

/** A provider on its own OpenFeature domain, with every event it fires recorded. */
async function start(options: Partial<GantryProviderOptions> & { baseUrl?: string }, wait = true) {
  const logs: string[] = [];
  const provider = new GantryProvider({
    baseUrl: g.apiUrl,
    token: sdkToken,
    logger: {
      error: (m) => logs.push(`error ${m}`),
      warn: (m) => logs.push(`warn ${m}`),
      info: () => {},
      debug: () => {},
    },
    ...options,
  });
  started.push(provider);
  const domain = `app-${started.length}-${Math.random()}`;
  const client = OpenFeature.getClient(domain);
  const events: Seen[] = [];
  for (const event of Object.values(ProviderEvents)) {
    client.addHandler(event, (details) => events.push({ event, at: performance.now(), details }));
  }
  const ready = OpenFeature.setProviderAndWait(domain, provider);
  if (wait) await ready;
  else ready.catch(() => {});
  const next = async (event: ProviderEvents, after: number, timeoutMs = 10_000) => {
    await waitUntil(() => events.some((e) => e.event === event && e.at > after), timeoutMs, event);
    return events.find((e) => e.event === event && e.at > after)!;
  };
  return { provider, client, events, logs, next, ready };
}

describe("@gantry/sdk OpenFeature provider against a running Gantry", () => {
  it("a flag change reaches a running app within a second (10 changes measured)", async () => {
    await createFlag("latency", bool({ enabled: true, fallthrough: { variant: "off" } }));
    const app = await start({});
    expect(app.provider.stats()).toMatchObject({
      environment: "production",
      source: "server",
      connection: "stream",
    });
    expect(await app.client.getBooleanValue("latency", true)).toBe(false);

    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const serve = i % 2 === 0 ? "on" : "off";
      const before = performance.now();
      await setProduction("latency", { enabled: true, fallthrough: { variant: serve } });
      const changed = await app.next(ProviderEvents.ConfigurationChanged, before, 2000);
      expect(changed.details?.flagsChanged).toEqual(["latency"]);
      expect(await app.client.getBooleanValue("latency", !(serve === "on"))).toBe(serve === "on");
      delays.push(changed.at - before);
    }
    delays.sort((a, b) => a - b);
    const median = delays[5]!;
    const worst = delays[9]!;
    console.log(
      `flag change → running app: median ${median.toFixed(1)} ms, max ${worst.toFixed(1)} ms (API call included)`,
    );
    expect(worst).toBeLessThan(1000);
  });

  it("answers with OpenFeature's reasons and error codes, the same as the server's evaluator", async () => {
    await createFlag("r-static", bool({ enabled: true, fallthrough: { variant: "on" } }));
    await createFlag(
      "r-target",
      bool({
        enabled: true,
        rules: [{ clauses: [{ attribute: "country", operator: "in", values: ["DK"] }], variant: "on" }],
      }),
    );
    await createFlag(
      "r-split",
      bool({
        enabled: true,
        fallthrough: {
          split: [
            { variant: "on", weight: 50 },
            { variant: "off", weight: 50 },
          ],
        },
      }),
    );
    await createFlag("r-disabled", bool({ enabled: false, fallthrough: { variant: "on" } }));
    await createFlag("r-banner", {
      type: "string",
      variants: { blue: "#00f", red: "#f00" },
      defaultVariant: "blue",
      environments: { production: { enabled: true } },
    });
    const app = await start({});
    const c = app.client;
    const ctx = { targetingKey: "user-1", country: "SE" };

    expect(await c.getBooleanDetails("r-static", false, ctx)).toMatchObject({
      value: true,
      reason: "STATIC",
    });
    expect(await c.getBooleanDetails("r-target", false, { ...ctx, country: "DK" })).toMatchObject({
      value: true,
      variant: "on",
      reason: "TARGETING_MATCH",
    });
    expect(await c.getBooleanDetails("r-target", true, ctx)).toMatchObject({
      value: false,
      reason: "DEFAULT",
    });
    expect(await c.getBooleanDetails("r-split", false, ctx)).toMatchObject({ reason: "SPLIT" });
    expect(await c.getBooleanDetails("r-disabled", true, ctx)).toMatchObject({
      value: false,
      reason: "DISABLED",
    });
    expect(await c.getStringDetails("r-banner", "x", ctx)).toMatchObject({ value: "#00f", reason: "STATIC" });

    const missing = await c.getBooleanDetails("no-such-flag", true, ctx);
    expect(missing).toMatchObject({ value: true, reason: "ERROR", errorCode: "FLAG_NOT_FOUND" });
    const mismatch = await c.getNumberDetails("r-banner", 7, ctx);
    expect(mismatch).toMatchObject({ value: 7, reason: "ERROR", errorCode: "TYPE_MISMATCH" });
    expect(mismatch.errorMessage).toContain("is a string");
    expect(app.provider.getDetails("r-banner", 7, ctx)).toMatchObject({
      value: 7,
      reason: "ERROR",
      errorCode: "TYPE_MISMATCH",
    });
    expect(app.provider.getValue("no-such-flag", "fallback")).toBe("fallback");
    const noKey = await c.getBooleanDetails("r-split", true, { country: "SE" });
    expect(noKey).toMatchObject({ value: true, reason: "ERROR", errorCode: "TARGETING_KEY_MISSING" });

    // One evaluator: the provider answers every context as the server does.
    for (let i = 0; i < 40; i++) {
      const context = { targetingKey: `user-${i}`, country: i % 3 === 0 ? "DK" : "SE" };
      for (const key of ["r-static", "r-target", "r-split", "r-disabled"]) {
        const local = await c.getBooleanDetails(key, false, context);
        const remote = await api("POST", `/api/v1/flags/${key}/evaluate`, {
          environment: "production",
          context,
        });
        const expected = {
          value: remote.json.result.value,
          variant: remote.json.result.variant,
          reason: remote.json.result.reason,
        };
        expect({ value: local.value, variant: local.variant, reason: local.reason }).toEqual(expected);
        // The synchronous path answers the same.
        const sync = app.provider.getDetails(key, false, context);
        expect({ value: sync.value, variant: sync.variant, reason: sync.reason }).toEqual(expected);
      }
    }
  });

  it("a rule set that fails validation never reaches the SDK: the server refuses it, the app keeps its flags", async () => {
    await createFlag("guarded", bool({ enabled: true, fallthrough: { variant: "on" } }));
    const app = await start({});
    const revision = app.provider.stats().revision;
    const before = performance.now();
    const refused = await api("PUT", "/api/v1/flags/guarded/environments/production", {
      enabled: true,
      rules: [{ clauses: [{ attribute: "plan", operator: "like", values: ["x"] }], variant: "on" }],
    });
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe("INVALID_FLAG_SET");
    await sleep(700);
    expect(app.events.filter((e) => e.at > before)).toEqual([]);
    expect(app.provider.stats().revision).toBe(revision);
    expect(await app.client.getBooleanDetails("guarded", false, { targetingKey: "u" })).toMatchObject({
      value: true,
      reason: "STATIC",
    });
  });

  it("evaluation counts reach the server in batches: served counts and 'last evaluated'", async () => {
    await createFlag(
      "counted",
      bool({
        enabled: true,
        rules: [{ clauses: [{ attribute: "country", operator: "in", values: ["DK"] }], variant: "on" }],
      }),
    );
    const app = await start({ reportIntervalMs: 200 });
    const startedAt = Date.now();
    for (let i = 0; i < 25; i++)
      await app.client.getBooleanValue("counted", false, { targetingKey: "u", country: "DK" });
    for (let i = 0; i < 7; i++)
      await app.client.getBooleanValue("counted", false, { targetingKey: "u", country: "SE" });
    await app.client.getBooleanValue("not-a-flag", false);
    await waitUntil(() => app.provider.stats().evaluationsReported === 32, 5000, "the report");
    const got = await api("GET", "/api/v1/flags/counted");
    expect(got.json.lifecycle.served.production.on.count).toBe(25);
    expect(got.json.lifecycle.served.production.off.count).toBe(7);
    const last = Date.parse(got.json.lifecycle.lastEvaluatedAt);
    expect(last).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(last).toBeLessThanOrEqual(Date.now());
    expect(app.provider.stats()).toMatchObject({ evaluationsPending: 0, evaluationsDropped: 0 });

    // What is counted after the last report goes out on close.
    for (let i = 0; i < 5; i++)
      await app.client.getBooleanValue("counted", false, { targetingKey: "u", country: "DK" });
    await app.provider.onClose();
    const after = await api("GET", "/api/v1/flags/counted");
    expect(after.json.lifecycle.served.production.on.count).toBe(30);
  });

  it("follows changes by polling with ETags when a proxy will not carry the stream", async () => {
    await createFlag("polled", bool({ enabled: true, fallthrough: { variant: "off" } }));
    const proxy = await noStreamProxy(g.apiUrl);
    try {
      const app = await start({ baseUrl: proxy.url, pollIntervalMs: 250, reconnectDelayMs: 100 });
      expect(await app.client.getBooleanValue("polled", true)).toBe(false);
      expect(app.provider.stats().connection).toBe("polling");
      await sleep(800);
      const before = performance.now();
      await setProduction("polled", { enabled: true, fallthrough: { variant: "on" } });
      const changed = await app.next(ProviderEvents.ConfigurationChanged, before, 3000);
      expect(changed.details?.flagsChanged).toEqual(["polled"]);
      expect(await app.client.getBooleanValue("polled", false)).toBe(true);
      console.log(`polling: change seen after ${(changed.at - before).toFixed(0)} ms (poll interval 250 ms)`);
      // Unchanged flags cost a 304: the poll sends the ETag of the revision it holds.
      const polls = proxy.seen.filter((s) => s.path === "/api/v1/sdk/flags");
      expect(polls.filter((s) => s.status === 304).length).toBeGreaterThanOrEqual(2);
      expect(polls.filter((s) => s.status === 304).every((s) => s.ifNoneMatch !== undefined)).toBe(true);
      expect(proxy.seen.some((s) => s.path === "/api/v1/sdk/flags/stream" && s.status === 502)).toBe(true);
      expect(app.events.filter((e) => e.event === ProviderEvents.Stale)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("tells the application when its token cannot read flags, and serves code defaults", async () => {
    const unbound = await token(g, "sdk");
    const app = await start({ token: unbound }, false);
    await expect(app.ready).rejects.toThrow(
      /refused the token \(403: sdk token .* is bound to no flag environment.*gantry tokens create --role sdk --env/,
    );
    expect(app.client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(await app.client.getBooleanDetails("latency", true)).toMatchObject({
      value: true,
      reason: "ERROR",
      errorCode: "PROVIDER_NOT_READY",
    });
  });

  it("close() stops the stream, the timers and the file writes, and sends the last counts", async () => {
    await createFlag("close-check", bool({ enabled: true, fallthrough: { variant: "on" } }));
    const snapshot = join(mkdtempSync(join(tmpdir(), "gantry-sdk-")), "flags.json");
    const child = spawn(
      process.execPath,
      [join(repoRoot, "test/e2e/sdk-apps/close-leaves-nothing.ts"), g.apiUrl, sdkToken, snapshot],
      { stdio: ["ignore", "pipe", "pipe"], cwd: repoRoot },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await waitUntil(() => out.includes("ready\n"), 15_000, `the app to start: ${err}`);
    await setProduction("close-check", { enabled: true, fallthrough: { variant: "off" } });
    // The app exits by itself: nothing it opened keeps it alive.
    expect(await exited, err).toBe(0);
    const report = JSON.parse(out.trim().split("\n").pop()!);
    expect(report.alive, JSON.stringify(report.alive, null, 2)).toEqual([]);
    expect(report.opened).toEqual([]);
    expect(report.reported).toBe(10);
    expect(JSON.parse(readFileSync(snapshot, "utf8")).revision).toBe(report.revision);
  });
});

describe("@gantry/sdk provider when Gantry goes away", () => {
  it("goes STALE, keeps serving, reconnects after a restart; a snapshot starts an app offline; a corrupt one is ignored", async () => {
    // Applications reach Gantry at one address across its restarts, as through a load balancer.
    let h = await up({ config: CONFIG });
    const address = await tcpForwarder(() => Number(new URL(h.apiUrl).port));
    const adminToken = readFileSync(`${h.dataDir}/token`, "utf8").trim();
    const sdk = await token(h, "sdk", "production");
    const dir = mkdtempSync(join(tmpdir(), "gantry-sdk-"));
    const snapshot = join(dir, "flags.json");
    try {
      await createFlagAt(h, adminToken, "offline", { enabled: true, fallthrough: { variant: "on" } });
      const quick = {
        token: sdk,
        baseUrl: address.url,
        staleAfterMs: 500,
        maxReconnectDelayMs: 1000,
        initTimeoutMs: 2000,
      };
      const app = await start({ ...quick, snapshotFile: snapshot });
      await waitUntil(
        () => readable(snapshot)?.revision === app.provider.stats().revision,
        5000,
        "the snapshot",
      );

      const down = performance.now();
      await h.interrupt();
      const stale = await app.next(ProviderEvents.Stale, down, 5000);
      expect(stale.details?.message).toMatch(/no contact with Gantry for 500 ms/);
      expect(app.client.providerStatus).toBe(ProviderStatus.STALE);
      expect(await app.client.getBooleanDetails("offline", false)).toMatchObject({
        value: true,
        reason: "STATIC",
      });

      // Gantry is down: an app with the snapshot starts READY with the last known flags...
      const offline = await start({ ...quick, snapshotFile: snapshot });
      expect(offline.client.providerStatus).toBe(ProviderStatus.READY);
      expect(offline.provider.stats()).toMatchObject({ source: "snapshot", connection: "offline" });
      expect(await offline.client.getBooleanValue("offline", false)).toBe(true);
      // ...one whose snapshot is corrupt says so, and serves the code's defaults.
      const corruptFile = join(dir, "corrupt.json");
      writeFileSync(
        corruptFile,
        '{"gantrySnapshot":1,"environment":"production","revision":3,"flagSet":{"fl',
      );
      const corrupt = await start({ ...quick, snapshotFile: corruptFile }, false);
      await expect(corrupt.ready).rejects.toThrow(/no flags yet: .*still trying/);
      const error = corrupt.events.find((e) => e.event === ProviderEvents.Error);
      expect(error?.details?.message).toContain(`snapshot ${corruptFile} is not valid JSON`);
      expect(await corrupt.client.getBooleanDetails("offline", false)).toMatchObject({
        value: false,
        errorCode: "PROVIDER_NOT_READY",
      });

      const restart = performance.now();
      h = await up({ config: CONFIG, dataDir: h.dataDir });
      const back = performance.now();
      for (const a of [app, offline, corrupt]) await a.next(ProviderEvents.Ready, restart, 10_000);
      console.log(
        `reconnect after restart: READY ${(Math.max(...[app, offline, corrupt].map((a) => a.events.findLast((e) => e.event === ProviderEvents.Ready)!.at)) - back).toFixed(0)} ms after Gantry was up again`,
      );
      expect(corrupt.client.providerStatus).toBe(ProviderStatus.READY);
      expect(await corrupt.client.getBooleanValue("offline", false)).toBe(true);
      expect(offline.provider.stats().source).toBe("server");

      const before = performance.now();
      await createFlagAt(h, adminToken, "offline", { enabled: true, fallthrough: { variant: "off" } }, "PUT");
      for (const a of [app, offline, corrupt]) {
        const changed = await a.next(ProviderEvents.ConfigurationChanged, before, 3000);
        expect(changed.details?.flagsChanged).toEqual(["offline"]);
        expect(await a.client.getBooleanValue("offline", true)).toBe(false);
      }
      // The corrupt snapshot was replaced by a good one.
      await waitUntil(
        () => readable(corruptFile)?.revision === corrupt.provider.stats().revision,
        5000,
        "rewrite",
      );
    } finally {
      await Promise.all(started.splice(0).map((p) => p.onClose()));
      await h.interrupt();
      await address.close();
    }
  });
});

function readable(file: string): { revision: number } | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

async function createFlagAt(
  at: RunningGantry,
  adminToken: string,
  key: string,
  production: object,
  method = "POST",
) {
  const path = method === "POST" ? "/api/v1/flags" : `/api/v1/flags/${key}/environments/production`;
  const body = method === "POST" ? { key, ...bool(production) } : production;
  const response = await fetch(`${at.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.text()).toBeLessThan(300);
}

/**
 * A TCP forwarder on a fixed port to wherever Gantry listens now; while Gantry is down a
 * connection is accepted and cut at once, as a load balancer without a backend does.
 */
async function tcpForwarder(port: () => number) {
  const sockets = new Set<import("node:net").Socket>();
  const server = createTcpServer((client) => {
    const upstream = tcpConnect(port(), "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      // Either side gone (Gantry stopped, the app left): the other goes too.
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on("error", () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A reverse proxy to Gantry that, like some corporate proxies, will not carry server-sent events. */
async function noStreamProxy(target: string) {
  const seen: { path: string; status: number; ifNoneMatch: string | undefined }[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const ifNoneMatch = req.headers["if-none-match"] as string | undefined;
    if (path.endsWith("/stream")) {
      seen.push({ path, status: 502, ifNoneMatch });
      res.writeHead(502, { "content-type": "text/plain" }).end("streaming is not allowed through this proxy");
      return;
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        seen.push({ path, status: answer.statusCode ?? 0, ifNoneMatch });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
