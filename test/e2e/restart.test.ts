import { afterEach, describe, expect, it } from "vitest";
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

let running: RunningGantry | undefined;
afterEach(async () => {
  if (running) await running.interrupt();
  running = undefined;
});

describe("a control plane killed mid-rollout", () => {
  for (const strategy of [
    "{ type: rolling, maxSurge: 1, maxUnavailable: 0 }",
    "{ type: blue-green, idleFor: 5m }",
  ]) {
    it(`finishes the ${strategy.includes("rolling") ? "rolling" : "blue-green"} deploy after a restart with no failed request`, async () => {
      const config = webConfig(strategy);
      const first = await up({ config });
      running = first;
      expect(
        (await gantry(first.dataDir, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"]))
          .code,
      ).toBe(0);
      const load = constantLoad({ url: first.routerUrl, host: "web.localhost", rps: 200, postEvery: 5 });
      // Slow starts keep the rollout in flight long enough to kill the control plane in the middle of it.
      const started = await gantry(first.dataDir, [
        "deploy",
        "web",
        "--artifact",
        demoApp,
        "--version",
        "v2",
        "--env",
        "DEMO_START_DELAY_MS=1500",
      ]);
      expect(started.code, started.stderr).toBe(0);
      await sleep(1000);
      await first.kill();
      running = undefined;
      await sleep(1500); // traffic flows with no control plane at all

      const second = await up({
        config,
        dataDir: first.dataDir,
        routerPort: first.routerPort,
        adminPort: first.adminPort,
      });
      running = second;
      await waitUntil(
        async () => {
          const status = JSON.parse((await gantry(second.dataDir, ["status", "web", "--json"])).stdout)
            .services[0];
          return status.rollout === null && status.liveVersion === "v2";
        },
        30_000,
        "the rollout to finish after the restart",
      );
      await sleep(300);
      const samples = await load.stop();
      expect(failures(samples)).toEqual([]);
      expect(samples.at(-1)!.version).toBe("v2");
      const audit = JSON.parse(
        (await gantry(second.dataDir, ["audit", "--service", "web", "--json"])).stdout,
      );
      expect(audit.events.map((e: { action: string }) => e.action)).toContain("rollout.resumed");
    });
  }
});

describe("Ctrl-C", () => {
  it("stops the router and every instance, and the next start serves the live version again", async () => {
    const config = webConfig("{ type: rolling }");
    const first = await up({ config });
    expect(
      (await gantry(first.dataDir, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"]))
        .code,
    ).toBe(0);
    const pids = JSON.parse(
      (await gantry(first.dataDir, ["status", "--json"])).stdout,
    ).services[0].instances.map((i: { pid: number }) => i.pid);
    expect(pids).toHaveLength(2);
    expect(await first.interrupt()).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    await expect(fetch(first.routerUrl)).rejects.toThrow();

    running = await up({
      config,
      dataDir: first.dataDir,
      routerPort: first.routerPort,
      adminPort: first.adminPort,
    });
    await waitUntil(
      async () =>
        (await fetch(running!.routerUrl, { headers: { host: "web.localhost" } }).catch(() => undefined))
          ?.status === 200,
      20_000,
      "v1 to serve again",
    );
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
