import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { HttpRouterAdmin } from "./admin-client.ts";
import { defaultMaintenancePage, type RouterPolicy, type ServiceRoute } from "./policy.ts";

const script = join(import.meta.dirname, "router-process.ts");
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** An upstream that answers with its name, after `delayMs`. */
async function upstream(
  name: string,
  delayMs = 0,
): Promise<{ port: number; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(
      `${req.method} ${req.url} ${req.headers["x-forwarded-for"]} ${req.headers["x-forwarded-host"]}`,
    );
    setTimeout(() => res.end(name), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  server.keepAliveTimeout = 30_000;
  return { port: (server.address() as { port: number }).port, server, seen };
}

async function startRouter(dataDir = mkdtempSync(join(tmpdir(), "router-"))) {
  const port = await freePort();
  const adminPort = await freePort();
  const child = spawn(
    process.execPath,
    [script, "--data-dir", dataDir, "--port", String(port), "--admin-port", String(adminPort)],
    {
      stdio: "ignore",
      detached: true,
    },
  );
  cleanups.push(() => stop(child));
  const info = join(dataDir, "router", "admin.json");
  const started = () => existsSync(info) && JSON.parse(readFileSync(info, "utf8")).pid === child.pid;
  for (let i = 0; i < 200 && !started(); i++) await sleep(25);
  const token = readFileSync(join(dataDir, "router", "admin.token"), "utf8").trim();
  const admin = new HttpRouterAdmin({ port: adminPort, token });
  cleanups.push(() => admin.close());
  return { url: `http://127.0.0.1:${port}`, port, adminPort, admin, child, dataDir };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once("exit", () => r());
    child.kill("SIGKILL");
  });
}

function route(service: string, over: Partial<ServiceRoute>): ServiceRoute {
  return {
    service,
    hosts: [],
    pathPrefix: "/",
    isDefault: false,
    mode: "normal",
    maintenance: defaultMaintenancePage,
    backends: [],
    ...over,
  };
}

function policy(revision: number, ...services: ServiceRoute[]): RouterPolicy {
  return { revision, services };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** undici's request, not fetch: fetch may not set the Host header. */
const get = async (url: string, host?: string) => {
  const response = await request(url, { headers: host ? { host } : {} });
  const headers = new Headers(Object.entries(response.headers).map(([k, v]) => [k, String(v)]));
  return { status: response.statusCode, text: await response.body.text(), headers };
};

describe("router", () => {
  it("routes by host and path prefix, with a default route, and sets X-Forwarded-*", async () => {
    const web = await upstream("web");
    const api = await upstream("api");
    const r = await startRouter();
    await r.admin.putPolicy(
      policy(
        1,
        route("web", {
          hosts: ["web.localhost"],
          isDefault: true,
          backends: [
            { version: "v1", weight: 1, instances: [{ id: "w1", host: "127.0.0.1", port: web.port }] },
          ],
        }),
        route("api", {
          hosts: ["web.localhost"],
          pathPrefix: "/api",
          backends: [
            { version: "v1", weight: 1, instances: [{ id: "a1", host: "127.0.0.1", port: api.port }] },
          ],
        }),
      ),
    );
    expect((await get(`${r.url}/`, "web.localhost")).text).toBe("web");
    expect((await get(`${r.url}/api/x`, "web.localhost")).text).toBe("api");
    expect((await get(`${r.url}/`, "elsewhere.test")).text).toBe("web");
    expect(api.seen[0]).toBe("GET /api/x 127.0.0.1 web.localhost");
  });

  it("splits traffic by weight between versions", async () => {
    const v1 = await upstream("v1");
    const v2 = await upstream("v2");
    const r = await startRouter();
    await r.admin.putPolicy(
      policy(
        1,
        route("web", {
          backends: [
            { version: "v1", weight: 90, instances: [{ id: "a", host: "127.0.0.1", port: v1.port }] },
            { version: "v2", weight: 10, instances: [{ id: "b", host: "127.0.0.1", port: v2.port }] },
          ],
        }),
      ),
    );
    const answers = await Promise.all(Array.from({ length: 1000 }, () => get(r.url).then((a) => a.text)));
    expect(answers.filter((a) => a === "v2").length).toBe(100);
    const metrics = await r.admin.metrics();
    expect(metrics).toMatch(/gantry_http_requests_total\{service="web",version="v1",code="2xx"\} 900/);
    expect(metrics).toMatch(/gantry_http_requests_total\{service="web",version="v2",code="2xx"\} 100/);
  });

  it("ejects an instance that refuses connections and replays GETs on another, failing none", async () => {
    const alive = await upstream("alive");
    const dead = await freePort();
    const r = await startRouter();
    await r.admin.putPolicy(
      policy(
        1,
        route("web", {
          backends: [
            {
              version: "v1",
              weight: 1,
              instances: [
                { id: "dead", host: "127.0.0.1", port: dead },
                { id: "alive", host: "127.0.0.1", port: alive.port },
              ],
            },
          ],
        }),
      ),
    );
    const answers = await Promise.all(Array.from({ length: 200 }, () => get(r.url)));
    expect(answers.every((a) => a.status === 200 && a.text === "alive")).toBe(true);
  });

  it("repeats a GET elsewhere when its instance dies mid-request, but never a POST", async () => {
    const alive = await upstream("alive");
    // An instance that accepts, reads the request, then dies without answering.
    const dying = createNetServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((r) => dying.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => dying.close(r)));
    const r = await startRouter();
    const instances = [
      { id: "dying", host: "127.0.0.1", port: (dying.address() as { port: number }).port },
      { id: "alive", host: "127.0.0.1", port: alive.port },
    ];
    await r.admin.putPolicy(policy(1, route("web", { backends: [{ version: "v1", weight: 1, instances }] })));
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(r.url)));
    expect(answers.map((a) => `${a.status} ${a.text}`)).toEqual(answers.map(() => "200 alive"));
    const posts = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await request(r.url, { method: "POST", body: "x" });
        await response.body.dump();
        return response.statusCode;
      }),
    );
    // Whatever reached the dying instance may have been acted on: it is not sent twice.
    expect(posts).toContain(502);
    expect(alive.seen.filter((line) => line.startsWith("POST")).length).toBe(
      posts.filter((s) => s === 200).length,
    );
  });

  it("drains a removed instance: its in-flight request completes, then it is gone from /inflight", async () => {
    const slow = await upstream("slow", 800);
    const other = await upstream("other");
    const r = await startRouter();
    const slowRoute = {
      version: "v1",
      weight: 1,
      instances: [{ id: "slow", host: "127.0.0.1", port: slow.port }],
    };
    await r.admin.putPolicy(policy(1, route("web", { backends: [slowRoute] })));
    const inFlight = get(r.url);
    await sleep(200);
    expect(await r.admin.inflight()).toEqual({ slow: 1 });
    await r.admin.putPolicy(
      policy(
        2,
        route("web", {
          backends: [
            { version: "v2", weight: 1, instances: [{ id: "other", host: "127.0.0.1", port: other.port }] },
          ],
        }),
      ),
    );
    expect((await get(r.url)).text).toBe("other");
    expect((await inFlight).text).toBe("slow");
    expect(await r.admin.inflight()).toEqual({});
  });

  it("answers with the maintenance page, 503 and Retry-After, in maintenance mode", async () => {
    const r = await startRouter();
    await r.admin.putPolicy(
      policy(
        1,
        route("web", {
          mode: "maintenance",
          maintenance: { retryAfterSeconds: 7, contentType: "text/html", body: "<h1>brb</h1>" },
        }),
      ),
    );
    const answer = await get(r.url);
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("7");
    expect(answer.text).toBe("<h1>brb</h1>");
  });

  it("answers 503 with Retry-After when a service has no instance to serve", async () => {
    const r = await startRouter();
    await r.admin.putPolicy(policy(1, route("web", { backends: [] })));
    const answer = await get(r.url);
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("1");
  });

  it("refuses a bad policy naming the field, and keeps serving the previous one", async () => {
    const web = await upstream("web");
    const r = await startRouter();
    await r.admin.putPolicy(
      policy(
        1,
        route("web", {
          backends: [
            { version: "v1", weight: 1, instances: [{ id: "w", host: "127.0.0.1", port: web.port }] },
          ],
        }),
      ),
    );
    const bad = {
      revision: 2,
      services: [{ ...route("web", {}), backends: [{ version: "v1", weight: -1, instances: [] }] }],
    };
    await expect(r.admin.putPolicy(bad as RouterPolicy)).rejects.toThrow(
      /services\[0\]\.backends\[0\]\.weight/,
    );
    await expect(r.admin.putPolicy(policy(0, route("web", {})))).rejects.toThrow(/older than the current 1/);
    expect((await get(r.url)).text).toBe("web");
  });

  it("keeps serving when the process that started it is killed, and restarts on its persisted policy", async () => {
    const web = await upstream("web");
    const first = await startRouter();
    await first.admin.putPolicy(
      policy(
        5,
        route("web", {
          backends: [
            { version: "v1", weight: 1, instances: [{ id: "w", host: "127.0.0.1", port: web.port }] },
          ],
        }),
      ),
    );
    // The test process is the spawner here; the router is detached and has no tie to it but the pid.
    expect((await get(first.url)).text).toBe("web");
    await stop(first.child);
    const second = await startRouter(first.dataDir);
    expect((await second.admin.getPolicy()).revision).toBe(5);
    expect((await get(second.url)).text).toBe("web");
  });

  it("cuts off a client that sends its headers too slowly while serving others", async () => {
    const web = await upstream("web");
    const r = await startRouter();
    await r.admin.putPolicy(
      policy(
        1,
        route("web", {
          backends: [
            { version: "v1", weight: 1, instances: [{ id: "w", host: "127.0.0.1", port: web.port }] },
          ],
        }),
      ),
    );
    const socket = connect(r.port, "127.0.0.1");
    let closed = false;
    socket.on("close", () => (closed = true));
    let answer = "";
    socket.on("data", (d) => (answer += d));
    socket.on("error", () => undefined);
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => socket.write("X-Slow: 1\r\n"), 1000);
    cleanups.push(() => clearInterval(drip));
    expect((await get(r.url)).text).toBe("web");
    for (let i = 0; i < 140 && !closed; i++) await sleep(100);
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
  }, 30_000);
});

describe("router modes", () => {
  const one = (port: number) => [
    { version: "v1", weight: 1, instances: [{ id: "w", host: "127.0.0.1", port }] },
  ];

  it("refuses writes in read-only mode by the Accept header, lets reads and allowed paths through, and tells the app", async () => {
    const web = await upstream("web");
    const r = await startRouter();
    await r.admin.putPolicy(
      policy(
        1,
        route("web", {
          mode: "read-only",
          readOnly: { allowPaths: ["/login"], retryAfterSeconds: 30 },
          backends: one(web.port),
        }),
      ),
    );
    expect((await get(r.url)).text).toBe("web");
    const json = await request(`${r.url}/items`, { method: "POST", body: "{}" });
    expect(json.statusCode).toBe(503);
    expect(json.headers["retry-after"]).toBe("30");
    expect(JSON.parse(await json.body.text()).error.code).toBe("READ_ONLY");
    const html = await request(`${r.url}/items`, { method: "DELETE", headers: { accept: "text/html" } });
    expect(html.headers["content-type"]).toContain("text/html");
    await html.body.text();
    const login = await request(`${r.url}/login`, { method: "POST", body: "x" });
    expect(login.statusCode).toBe(200);
    await login.body.text();
    expect(web.seen).toHaveLength(2);
  });

  it("ends a timed mode by itself", async () => {
    const web = await upstream("web");
    const r = await startRouter();
    const until = new Date(Date.now() + 600).toISOString();
    await r.admin.putPolicy(
      policy(1, route("web", { mode: "maintenance", modeUntil: until, backends: one(web.port) })),
    );
    expect((await get(r.url)).status).toBe(503);
    await sleep(700);
    expect((await get(r.url)).text).toBe("web");
  });

  it("sends traffic to the fallback when no instance can serve", async () => {
    const fallback = await upstream("static copy");
    const r = await startRouter();
    await r.admin.putPolicy(
      policy(
        1,
        route("web", { fallback: { id: "fb", host: "127.0.0.1", port: fallback.port }, backends: [] }),
      ),
    );
    expect((await get(r.url)).text).toBe("static copy");
  });

  it("opens the breaker on failures and falls back, half-opens after the cool-down, and closes", async () => {
    let failing = true;
    const flaky = createServer((_req, res) => {
      res.statusCode = failing ? 500 : 200;
      res.end(failing ? "boom" : "healthy");
    });
    await new Promise<void>((r) => flaky.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => flaky.close(r)));
    const fallback = await upstream("fallback");
    const r = await startRouter();
    const breaker = {
      forced: null,
      errorRate: 0,
      minRequests: 1,
      windowSeconds: 10,
      consecutiveFailures: 3,
      cooldownSeconds: 1,
      halfOpenRequests: 1,
    };
    await r.admin.putPolicy(
      policy(
        1,
        route("web", {
          breaker,
          fallback: { id: "fb", host: "127.0.0.1", port: fallback.port },
          backends: [
            {
              version: "v1",
              weight: 1,
              instances: [{ id: "f", host: "127.0.0.1", port: (flaky.address() as { port: number }).port }],
            },
          ],
        }),
      ),
    );
    for (let i = 0; i < 3; i++) expect((await get(r.url)).status).toBe(500);
    expect(await r.admin.breakers()).toEqual({ web: "open" });
    expect((await get(r.url)).text).toBe("fallback");
    failing = false;
    await sleep(1100);
    expect((await get(r.url)).text).toBe("healthy");
    expect(await r.admin.breakers()).toEqual({ web: "closed" });
  });

  it("holds the breaker open by hand ahead of a risky change", async () => {
    const web = await upstream("web");
    const r = await startRouter();
    const breaker = {
      forced: "open" as const,
      errorRate: 0,
      minRequests: 1,
      windowSeconds: 10,
      consecutiveFailures: 0,
      cooldownSeconds: 1,
      halfOpenRequests: 1,
    };
    await r.admin.putPolicy(policy(1, route("web", { breaker, backends: one(web.port) })));
    expect((await get(r.url)).status).toBe(503);
    expect(web.seen).toHaveLength(0);
  });
});
