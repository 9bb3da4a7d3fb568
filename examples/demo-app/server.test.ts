import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const server = join(import.meta.dirname, "server.ts");
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts server.ts; an env value of undefined leaves that variable out. */
async function start(
  env: Record<string, string | undefined> = {},
  options: { cwd?: string; script?: string } = {},
) {
  const host = env.HOST?.trim() || "127.0.0.1";
  const port = await freePort(host);
  const db = "DEMO_DB" in env ? env.DEMO_DB : join(mkdtempSync(join(tmpdir(), "demo-")), "demo.sqlite");
  const all: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    PORT: String(port),
    GANTRY_SERVICE: "demo",
    GANTRY_VERSION: "v7",
    GANTRY_INSTANCE: "demo-v7-1",
    DEMO_DB: db,
    ...env,
  };
  const child = spawn(process.execPath, [options.script ?? server], {
    cwd: options.cwd,
    env: Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined)),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const url = `http://${host}:${port}`;
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { url, child, db, exited, output: () => output, ready: () => waitListening(url, child) };
}

async function waitListening(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    if (await reachable(url)) return;
    await sleep(25);
  }
  throw new Error("not listening");
}

const reachable = (url: string) =>
  fetch(`${url}/healthz`).then(
    () => true,
    () => false,
  );

const post = (url: string, body: unknown) =>
  fetch(`${url}/items`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });

describe("demo app", () => {
  it("answers with its service, version and instance, and X-Demo-Version on every response", async () => {
    const app = await start();
    await app.ready();
    const response = await fetch(app.url);
    expect(await response.json()).toEqual({ service: "demo", version: "v7", instance: "demo-v7-1" });
    for (const path of ["/", "/healthz", "/items", "/nope"]) {
      expect((await fetch(`${app.url}${path}`)).headers.get("x-demo-version")).toBe("v7");
    }
    expect((await fetch(`${app.url}/nope`)).status).toBe(404);
    expect((await post(app.url, "{")).headers.get("x-demo-version")).toBe("v7");
  });

  it("stores an item and lists it", async () => {
    const app = await start();
    await app.ready();
    const created = await post(app.url, { name: "first" });
    expect(created.status).toBe(201);
    const item = (await created.json()) as { createdAt: string };
    expect(item).toEqual({ id: 1, name: "first", createdAt: expect.any(String), version: "v7" });
    expect(Date.parse(item.createdAt)).not.toBeNaN();
    expect(await (await fetch(`${app.url}/items`)).json()).toEqual({ items: [item] });
  });

  it.each([
    ["no name", {}],
    ["an empty name", { name: "" }],
    ["a name that is no string", { name: 3 }],
    ["null", "null"],
    ["broken JSON", "{"],
  ])("refuses an item with %s with 400", async (_what, body) => {
    const app = await start();
    await app.ready();
    const response = await post(app.url, body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error?: string }).error).toBeTruthy();
  });

  it("loses no item when two processes on one database take concurrent writes", async () => {
    const a = await start();
    const b = await start({ DEMO_DB: a.db, GANTRY_VERSION: "v8" });
    await Promise.all([a.ready(), b.ready()]);
    const responses = await Promise.all(
      Array.from({ length: 120 }, (_, i) => post(i % 2 ? a.url : b.url, { name: `item-${i}` })),
    );
    expect(responses.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const { items } = (await (await fetch(`${b.url}/items`)).json()) as {
      items: { id: number; name: string; version: string }[];
    };
    expect(items).toHaveLength(120);
    expect(new Set(items.map((i) => i.name)).size).toBe(120);
    expect(new Set(items.map((i) => i.id)).size).toBe(120);
    expect(new Set(items.map((i) => i.version))).toEqual(new Set(["v7", "v8"]));
  });

  it("fails the share of requests DEMO_FAIL_RATE says, but never its health check", async () => {
    const always = await start({ DEMO_FAIL_RATE: "1" });
    const half = await start({ DEMO_FAIL_RATE: "0.5" });
    await Promise.all([always.ready(), half.ready()]);
    expect((await fetch(always.url)).status).toBe(500);
    expect((await fetch(`${always.url}/items`)).status).toBe(500);
    expect((await post(always.url, { name: "x" })).status).toBe(500);
    expect((await fetch(`${always.url}/healthz`)).status).toBe(200);
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () => fetch(half.url).then((r) => r.status)),
    );
    const failed = statuses.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThan(60);
    expect(failed).toBeLessThan(140);
  });

  it("adds DEMO_LATENCY_MS to requests but not to its health check", async () => {
    const app = await start({ DEMO_LATENCY_MS: "300" });
    await app.ready();
    let t = performance.now();
    await fetch(app.url);
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    t = performance.now();
    await fetch(`${app.url}/healthz`);
    expect(performance.now() - t).toBeLessThan(250);
  });

  it("fails its health check with DEMO_HEALTH_FAIL=1 while still serving", async () => {
    const app = await start({ DEMO_HEALTH_FAIL: "1" });
    await app.ready();
    expect((await fetch(`${app.url}/healthz`)).status).toBe(500);
    expect((await fetch(app.url)).status).toBe(200);
  });

  it("exits 1 at once with DEMO_CRASH_ON_START=1", async () => {
    const app = await start({ DEMO_CRASH_ON_START: "1" });
    expect(await app.exited).toBe(1);
    expect(app.output()).toContain("DEMO_CRASH_ON_START");
  });

  it.each([
    ["DEMO_FAIL_RATE", "2"],
    ["DEMO_FAIL_RATE", "half"],
    ["DEMO_LATENCY_MS", "-5"],
    ["DEMO_START_DELAY_MS", "1.5"],
    ["DEMO_HEALTH_FAIL", "yes"],
    ["DEMO_CRASH_ON_START", "true"],
    ["PORT", "http"],
    ["HOST", " "],
  ])("refuses to start with %s=%j, naming the variable", async (name, value) => {
    const app = await start({ [name]: value });
    expect(await app.exited).toBe(2);
    expect(app.output()).toContain(name);
  });

  it("refuses to start on a database it cannot open, naming DEMO_DB", async () => {
    const app = await start({ DEMO_DB: "/nonexistent/dir/demo.sqlite" });
    expect(await app.exited).toBe(2);
    expect(app.output()).toContain("DEMO_DB");
  });

  it("listens on HOST when given", async () => {
    const app = await start({ HOST: "127.0.0.2" });
    await app.ready();
    expect(app.url).toContain("127.0.0.2");
    expect(app.output()).toContain("listening on 127.0.0.2");
  });

  it("waits DEMO_START_DELAY_MS before listening, and stops at once if told to meanwhile", async () => {
    const app = await start({ DEMO_START_DELAY_MS: "700" });
    await sleep(300);
    expect(await reachable(app.url)).toBe(false);
    await app.ready();
    const waiting = await start({ DEMO_START_DELAY_MS: "60000" });
    while (!waiting.output().includes("waiting 60000 ms")) await sleep(20);
    waiting.child.kill("SIGTERM");
    expect(await waiting.exited).toBe(0);
  });

  it("runs from a bare copy of server.ts, keeping items in ./demo.sqlite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demo-copy-"));
    copyFileSync(server, join(dir, "server.ts"));
    const app = await start({ DEMO_DB: undefined }, { cwd: dir, script: "server.ts" });
    await app.ready();
    expect((await post(app.url, { name: "x" })).status).toBe(201);
    expect(existsSync(join(dir, "demo.sqlite"))).toBe(true);
  });

  it("finishes an in-flight request on SIGTERM, refuses new connections, then exits 0", async () => {
    const app = await start({ DEMO_LATENCY_MS: "800" });
    await app.ready();
    const slow = fetch(app.url);
    await sleep(150);
    app.child.kill("SIGTERM");
    await sleep(100);
    expect(await reachable(app.url)).toBe(false);
    const response = await slow;
    expect(response.status).toBe(200);
    expect(response.headers.get("connection")).toBe("close");
    expect(await app.exited).toBe(0);
  });

  it("exits promptly on SIGTERM although a keep-alive connection is open", async () => {
    const app = await start();
    await app.ready();
    const { port } = new URL(app.url);
    await new Promise<void>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path: "/", agent: new Agent({ keepAlive: true }) })
        .on("response", (res) => res.resume().on("end", resolve))
        .on("error", reject)
        .end();
    });
    const t = performance.now();
    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
    expect(performance.now() - t).toBeLessThan(1500);
  });
});
