import { afterEach, describe, expect, it } from "vitest";
import { deployWeb, failures, liveWebUnderLoad, type RunningGantry, up, webConfig } from "./harness.ts";

let running: RunningGantry | undefined;
afterEach(async () => {
  if (running) await running.interrupt();
  running = undefined;
});

async function liveUnderLoad(strategy: string) {
  running = await up({ config: webConfig(strategy) });
  return liveWebUnderLoad(running, 100);
}

describe("shadow traffic", () => {
  it("reports a candidate's differing answers and rolls it back, users only ever getting stable's", async () => {
    const { g, load, status } = await liveUnderLoad(
      "{ type: shadow, for: 30s, ignore: [version, instance], maxMismatchRate: 0.05, minCompared: 20 }",
    );
    const deployed = await deployWeb(g, "v2", "DEMO_FAIL_RATE=0.3");
    const samples = await load.stop();
    expect(deployed.code).not.toBe(0);
    // The candidate failed 30% of what it was shown, and no user saw it.
    expect(failures(samples)).toEqual([]);
    expect(samples.every((s) => s.version === "v1")).toBe(true);
    const { lastRollout, liveVersion } = await status();
    expect(liveVersion).toBe("v1");
    expect(lastRollout.failure).toMatch(
      /^shadow comparison failed: \d+\.\d\d% of \d+ answers differ \(at most 5\.00% allowed/,
    );
    expect(lastRollout.failure).toContain("GET /: status 500 instead of 200");
    expect(lastRollout.analysis.shadow.mismatched).toBeGreaterThan(0);
  });

  it("switches to a candidate whose answers match once compared, ignoring the fields told", async () => {
    const { g, load, status } = await liveUnderLoad(
      "{ type: shadow, for: 4s, ignore: [version, instance], minCompared: 50 }",
    );
    const deployed = await deployWeb(g, "v2");
    const samples = await load.stop();
    expect(deployed.code, deployed.stdout).toBe(0);
    expect(failures(samples)).toEqual([]);
    const { lastRollout, liveVersion } = await status();
    expect(liveVersion).toBe("v2");
    expect(lastRollout.analysis.shadow).toMatchObject({ mismatched: 0, errors: 0 });
    expect(lastRollout.analysis.shadow.compared).toBeGreaterThanOrEqual(50);
    // Before the switch, every answer came from v1.
    const firstV2 = samples.findIndex((s) => s.version === "v2");
    expect(firstV2).toBeGreaterThan(300);
  });

  it("leaves stable live after a dark launch, and fails a comparison without enough traffic", async () => {
    const { g, load, status } = await liveUnderLoad(
      "{ type: shadow, for: 3s, ignore: [version, instance], minCompared: 20, after: stop }",
    );
    expect((await deployWeb(g, "v2")).code).toBe(0);
    await load.stop();
    const after = await status();
    expect(after.liveVersion).toBe("v1");
    expect(after.instances.every((i: { version: string }) => i.version === "v1")).toBe(true);
    // No traffic at all: nothing to compare.
    const idle = await deployWeb(g, "v3");
    expect(idle.code).not.toBe(0);
    expect((await status()).lastRollout.failure).toContain(
      "shadow comparison inconclusive: 0 answers compared, 20 needed",
    );
  });
});
