import { afterEach, describe, expect, it } from "vitest";
import { deployWeb, failures, liveWebUnderLoad, type RunningGantry, up, webConfig } from "./harness.ts";

let running: RunningGantry | undefined;
afterEach(async () => {
  if (running) await running.interrupt();
  running = undefined;
});

async function liveWithLoad(strategy: string, instances = 3) {
  running = await up({ config: webConfig(strategy).replace("instances: 2", `instances: ${instances}`) });
  return liveWebUnderLoad(running, 200);
}

describe("canary by instance schedule", () => {
  const schedule = `{ type: canary, schedule: [{ instances: 1, wait: 6s }, { every: 1s, until: 100% }], verify: [{ path: /healthz }, { path: /, expectBody: '"version"' }] }`;

  it("upgrades one instance, judges it, then the rest, failing no request", async () => {
    const { g, load, status } = await liveWithLoad(schedule);
    const deployed = await deployWeb(g, "v2");
    const samples = await load.stop();
    expect(deployed.code, deployed.stdout).toBe(0);
    expect(failures(samples)).toEqual([]);
    // While one of three instances ran v2, about a third of the requests got it.
    const v2 = samples.filter((s) => s.version === "v2");
    expect(v2.length).toBeGreaterThan(100);
    const { liveVersion, instances, lastRollout } = await status();
    expect(liveVersion).toBe("v2");
    expect(instances.map((i: { version: string }) => i.version)).toEqual(["v2", "v2", "v2"]);
    expect(lastRollout.analysis.verdict).toBe("pass");
  });

  it("rolls the fleet back when its first upgraded instance fails the judges", async () => {
    // Verified on /healthz only: a probe of / would meet the candidate's 30% errors first, a third of the time.
    const { g, load, status } = await liveWithLoad(
      schedule.replace(`, { path: /, expectBody: '"version"' }`, ""),
    );
    const deployed = await deployWeb(g, "v2", "DEMO_FAIL_RATE=0.3");
    const samples = await load.stop();
    expect(deployed.code).not.toBe(0);
    const failed = failures(samples);
    expect(failed.every((s) => s.version === "v2")).toBe(true);
    const { liveVersion, traffic, lastRollout } = await status();
    expect(liveVersion).toBe("v1");
    expect(traffic).toEqual([{ version: "v1", weight: 100 }]);
    expect(lastRollout.failure).toMatch(/^analysis failed: error rate/);
    // Only one instance was ever upgraded.
    expect(lastRollout.stepDescription ?? "").not.toContain("2/3");
  });

  it("stops at a verification check that an upgraded instance fails", async () => {
    const { g, load, status } = await liveWithLoad(
      `{ type: canary, schedule: [{ instances: 1, wait: 1s }, { every: 1s, until: 100% }], verify: [{ path: /, expectBody: "v1" }] }`,
    );
    const deployed = await deployWeb(g, "v2");
    await load.stop();
    expect(deployed.code).not.toBe(0);
    const { liveVersion, lastRollout } = await status();
    expect(liveVersion).toBe("v1");
    expect(lastRollout.failure).toMatch(
      /^smoke checks failed: web-v2-\w+ GET \/: body does not contain "v1"/,
    );
  });
});

describe("proportional shedding", () => {
  it("moves traffic to the new cluster share by share, the old cluster serving until the end", async () => {
    const { g, load, status } = await liveWithLoad("{ type: shedding, shares: [25, 75], every: 3s }", 2);
    const deployed = await deployWeb(g, "v2");
    const samples = await load.stop();
    expect(deployed.code, deployed.stdout).toBe(0);
    expect(failures(samples)).toEqual([]);
    const { liveVersion, lastRollout, instances } = await status();
    expect(liveVersion).toBe("v2");
    expect(lastRollout).toMatchObject({ strategy: "shedding", status: "succeeded" });
    expect(instances.every((i: { version: string }) => i.version === "v2")).toBe(true);
    // Both clusters answered while traffic moved.
    const first = samples.findIndex((s) => s.version === "v2");
    const mixed = samples.slice(first, first + 400);
    expect(mixed.some((s) => s.version === "v1")).toBe(true);
  });
});
