import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { constantLoad, deployWeb, gantry, type RunningGantry, up, webConfig, webStatus } from "./harness.ts";

let running: RunningGantry | undefined;
afterEach(async () => {
  if (running) await running.interrupt();
  running = undefined;
});

describe("analysis checks beyond the router's figures", () => {
  it("rolls back a canary whose instances use more memory than allowed, measured from the runtime", async () => {
    running = await up({
      config: webConfig(
        "{ type: canary, steps: [{ setWeight: 50 }, { analysis: 20s }], analysis: { checks: [{ name: memory, interval: 1s, resources: { maxMemoryMb: 250 } }] } }",
        "    keepFailed: 1m\n",
      ),
    });
    const g = running;
    expect((await deployWeb(g, "v1")).code).toBe(0);
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 50 });
    const deployed = await deployWeb(g, "v2", "DEMO_MEMORY_MB=300");
    await load.stop();
    expect(deployed.code).not.toBe(0);
    const { lastRollout, liveVersion } = JSON.parse(
      (await gantry(g.dataDir, ["status", "web", "--json"])).stdout,
    ).services[0];
    expect(liveVersion).toBe("v1");
    expect(lastRollout.failure).toMatch(
      /^analysis failed: check memory \(resources\) failed: CPU \d+\.\d\d cores, memory [34]\d\d MiB per instance at most: memory above 250 MiB$/,
    );
    const text = (await gantry(g.dataDir, ["status", "web"])).stdout;
    expect(text).toMatch(/fail {9}memory \(resources\): CPU/);
    // keepFailed: the judged-worse candidate stays up without traffic, reachable with a pin ticket.
    const after = await webStatus(g);
    expect(after.traffic).toEqual([{ version: "v1", weight: 100 }]);
    expect(after.idle).toMatchObject({ version: "v2" });
    expect(after.instances.filter((i: { version: string }) => i.version === "v2").length).toBeGreaterThan(0);
    const pin = (await gantry(g.dataDir, ["pin", "web", "v2"])).stdout.trim().split(": ")[1]!;
    const pinned = await request(`${g.routerUrl}/`, {
      headers: { host: "web.localhost", "x-gantry-pin": pin },
    });
    await pinned.body.dump();
    expect(pinned.headers["x-demo-version"]).toBe("v2");
    const audit = JSON.parse(
      (await gantry(g.dataDir, ["audit", "--action", "rollout.candidate_kept", "--json"])).stdout,
    );
    expect(audit.events).toHaveLength(1);
  });

  it("rolls back a canary whose Scientist experiment mismatches, from the results its instances report", async () => {
    running = await up({
      config: webConfig(
        "{ type: canary, steps: [{ setWeight: 50 }, { analysis: 30s }], analysis: { checks: [{ name: sums, interval: 1s, experiment: { name: demo-sum, maxMismatchRate: 0.05 } }] } }",
      ),
    });
    const g = running;
    expect((await deployWeb(g, "v1")).code).toBe(0);
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 50, path: "/compare?n=50" });
    const deployed = await deployWeb(g, "v2", "DEMO_CANDIDATE_BUG=1");
    await load.stop();
    expect(deployed.code).not.toBe(0);
    const { lastRollout } = await webStatus(g);
    expect(lastRollout.failure).toMatch(
      /^analysis failed: check sums \(experiment\) failed: demo-sum: \d+ of \d+ runs mismatched \(\d+\.\d\d%, at most 5\.00%\)$/,
    );
  });
});
