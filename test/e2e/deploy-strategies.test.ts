import { afterEach, describe, expect, it } from "vitest";
import { constantLoad, demoApp, failures, gantry, type RunningGantry, up, webConfig } from "./harness.ts";

let running: RunningGantry | undefined;
afterEach(async () => {
  if (running) await running.interrupt();
  running = undefined;
});

const strategies = {
  rolling: "{ type: rolling, maxSurge: 1, maxUnavailable: 0 }",
  "blue-green": "{ type: blue-green, idleFor: 5m, smoke: [{ path: /, expectBody: version }] }",
  recreate: "{ type: recreate }",
} as const;

describe.each(Object.entries(strategies))("%s deploy under load", (name, strategy) => {
  it("deploys v1→v2 and rolls back with no failed request, every answer from a live version", async () => {
    running = await up({ config: webConfig(strategy) });
    const g = running;
    expect(
      (await gantry(g.dataDir, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"])).code,
    ).toBe(0);

    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 200, postEvery: 5 });
    await new Promise((r) => setTimeout(r, 500));
    const deployed = await gantry(g.dataDir, [
      "deploy",
      "web",
      "--artifact",
      demoApp,
      "--version",
      "v2",
      "--wait",
    ]);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    const switchedAt = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    const rollbackAsked = Date.now();
    const rolledBack = await gantry(g.dataDir, ["rollback", "web", "--wait"]);
    expect(rolledBack.code, rolledBack.stdout + rolledBack.stderr).toBe(0);
    const backAt = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    const samples = await load.stop();

    expect(samples.length).toBeGreaterThan(400);
    // Stop-and-go answers with its maintenance page (503 + Retry-After) while it switches, never a connection error.
    const allowed =
      name === "recreate" ? (s: (typeof samples)[0]) => s.status === 503 && s.retryAfter !== null : undefined;
    expect(failures(samples, allowed)).toEqual([]);
    for (const s of samples.filter((s) => s.status === 200 || s.status === 201))
      expect(["v1", "v2"]).toContain(s.version);
    // Every accepted write is stored exactly once, whichever version took it.
    const written = samples.filter((s) => s.post && s.status === 201).length;
    expect(written).toBeGreaterThan(50);
    const stored = (await (
      await fetch(`${g.routerUrl}/items`, { headers: { host: "web.localhost" } })
    ).json()) as { items: unknown[] };
    expect(stored.items).toHaveLength(written);
    // Once deploy --wait returned, v2 served everything until the rollback; after rollback --wait, v1.
    const between = samples.filter(
      (s) => s.at > switchedAt + 50 && s.status === 200 && s.at < switchedAt + 400,
    );
    expect(between.every((s) => s.version === "v2")).toBe(true);
    const after = samples.filter((s) => s.at > backAt + 50 && s.status < 300);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.version === "v1")).toBe(true);
    if (name === "blue-green") {
      // The idle colour takes traffic back by a switch: from the command (CLI start-up included) to v1 serving.
      const lastV2 = samples.filter((s) => s.version === "v2").at(-1)!;
      expect(lastV2.at - rollbackAsked).toBeLessThan(1000);
    }

    const history = JSON.parse((await gantry(g.dataDir, ["history", "web", "--json"])).stdout);
    expect(history.rollouts.map((r: { kind: string; status: string }) => `${r.kind}:${r.status}`)).toEqual([
      "rollback:succeeded",
      "deploy:succeeded",
      "deploy:succeeded",
    ]);
  });
});

describe("a broken release", () => {
  it("never takes traffic: the deploy fails within its deadline with the log tail, v1 keeps serving", async () => {
    running = await up({ config: webConfig(strategies.rolling).replace("deadline: 15s", "deadline: 4s") });
    const g = running;
    expect(
      (await gantry(g.dataDir, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"])).code,
    ).toBe(0);
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 100 });
    const started = Date.now();
    const bad = await gantry(g.dataDir, [
      "deploy",
      "web",
      "--artifact",
      demoApp,
      "--version",
      "v2",
      "--env",
      "DEMO_HEALTH_FAIL=1",
      "--wait",
    ]);
    const samples = await load.stop();
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("did not pass the health check");
    expect(bad.stdout).toContain("last log lines");
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(failures(samples)).toEqual([]);
    expect(samples.every((s) => s.version === "v1")).toBe(true);

    const status = JSON.parse((await gantry(g.dataDir, ["status", "web", "--json"])).stdout).services[0];
    expect(status.liveVersion).toBe("v1");
    expect(status.instances.map((i: { version: string }) => i.version)).toEqual(["v1", "v1"]);
    const history = JSON.parse((await gantry(g.dataDir, ["history", "web", "--json"])).stdout);
    expect(history.rollouts[0]).toMatchObject({ to: "v2", status: "failed" });
    expect(history.rollouts[0].release.env).toEqual({ DEMO_HEALTH_FAIL: "1" });
  });
});
