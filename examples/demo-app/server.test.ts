import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const server = join(import.meta.dirname, "server.ts");
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function start(env: Record<string, string> = {}) {
  const port = await freePort();
  const db = env.DEMO_DB ?? join(mkdtempSync(join(tmpdir(), "demo-")), "demo.sqlite");
  const child = spawn(process.execPath, [server], {
    env: {
      ...process.env,
      PORT: String(port),
      GANTRY_VERSION: "v7",
      GANTRY_INSTANCE: "demo-v7-1",
      DEMO_DB: db,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { url, child, db, exited, output: () => output, ready: () => waitListening(url, child) };
}

async function waitListening(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error("exited");
    if (
      await fetch(`${url}/healthz`).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("not listening");
}

describe("demo app", () => {
  it("answers with its version in the body and the X-Demo-Version header", async () => {
    const app = await start();
    await app.ready();
    const response = await fetch(app.url);
    expect(response.headers.get("x-demo-version")).toBe("v7");
    expect(await response.json()).toEqual({ service: "demo", version: "v7", instance: "demo-v7-1" });
  });

  it("stores items that instances sharing a database all see, losing none under concurrent writes", async () => {
    const a = await start();
    const b = await start({ DEMO_DB: a.db });
    await Promise.all([a.ready(), b.ready()]);
    const posts = Array.from({ length: 40 }, (_, i) =>
      fetch(`${i % 2 ? a.url : b.url}/items`, {
        method: "POST",
        body: JSON.stringify({ name: `item-${i}` }),
      }),
    );
    const statuses = (await Promise.all(posts)).map((r) => r.status);
    expect(statuses.every((s) => s === 201)).toBe(true);
    const { items } = (await (await fetch(`${a.url}/items`)).json()) as { items: { name: string }[] };
    expect(items).toHaveLength(40);
    expect(new Set(items.map((i) => i.name)).size).toBe(40);
  });

  it("refuses an item without a name", async () => {
    const app = await start();
    await app.ready();
    const response = await fetch(`${app.url}/items`, { method: "POST", body: "{}" });
    expect(response.status).toBe(400);
  });

  it("fails the share of requests DEMO_FAIL_RATE says, but never its health check", async () => {
    const app = await start({ DEMO_FAIL_RATE: "1" });
    await app.ready();
    expect((await fetch(app.url)).status).toBe(500);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  it("adds DEMO_LATENCY_MS to requests", async () => {
    const app = await start({ DEMO_LATENCY_MS: "300" });
    await app.ready();
    const t = performance.now();
    await fetch(app.url);
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
  });

  it("fails its health check with DEMO_HEALTH_FAIL=1", async () => {
    const app = await start({ DEMO_HEALTH_FAIL: "1" });
    await app.ready();
    expect((await fetch(`${app.url}/healthz`)).status).toBe(500);
  });

  it("exits at once with DEMO_CRASH_ON_START=1, and on a bad setting names the variable", async () => {
    expect(await (await start({ DEMO_CRASH_ON_START: "1" })).exited).toBe(1);
    const bad = await start({ DEMO_FAIL_RATE: "2" });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain("DEMO_FAIL_RATE");
  });

  it("waits DEMO_START_DELAY_MS before listening", async () => {
    const app = await start({ DEMO_START_DELAY_MS: "700" });
    await new Promise((r) => setTimeout(r, 300));
    expect(
      await fetch(`${app.url}/healthz`).then(
        () => true,
        () => false,
      ),
    ).toBe(false);
    await app.ready();
  });

  it("finishes an in-flight request on SIGTERM, then exits 0", async () => {
    const app = await start({ DEMO_LATENCY_MS: "500" });
    await app.ready();
    const slow = fetch(app.url);
    await new Promise((r) => setTimeout(r, 100));
    app.child.kill("SIGTERM");
    expect((await slow).status).toBe(200);
    expect(await app.exited).toBe(0);
  });
});
