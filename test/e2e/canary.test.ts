import { afterEach, describe, expect, it } from "vitest";
import {
  deployWeb,
  failures,
  gantry,
  liveWebUnderLoad,
  type RunningGantry,
  type Sample,
  up,
  waitUntil,
  webConfig,
} from "./harness.ts";

let running: RunningGantry | undefined;
afterEach(async () => {
  if (running) await running.interrupt();
  running = undefined;
});

/** Gantry with `web` v1 live under a constant load of 200 requests/s. */
async function underLoad(strategy: string) {
  running = await up({ config: webConfig(strategy) });
  const live = await liveWebUnderLoad(running, 200);
  await new Promise((r) => setTimeout(r, 500));
  return live;
}

function v2Window(samples: Sample[]): { first: number; last: number } {
  const v2 = samples.filter((s) => s.version === "v2");
  return { first: v2[0]!.at, last: v2.at(-1)!.at };
}

describe("canary by traffic weight, judged against stable", () => {
  it("rolls a canary with 20% errors back within seconds, failing few requests", async () => {
    const { g, load, status } = await underLoad(
      "{ type: canary, steps: [{ setWeight: 10 }, { analysis: 60s }, { setWeight: 50 }, { analysis: 60s }] }",
    );
    const deployed = await deployWeb(g, "v2", "DEMO_FAIL_RATE=0.2");
    await new Promise((r) => setTimeout(r, 1000));
    const samples = await load.stop();
    expect(deployed.code, deployed.stdout).not.toBe(0);

    const { first, last } = v2Window(samples);
    expect(last - first).toBeLessThan(10_000);
    expect(samples.filter((s) => s.at > last + 100 && s.version !== "v1")).toEqual([]);
    // Only the canary's requests failed (a fifth of its tenth), and only until the verdict.
    const failed = failures(samples);
    expect(failed.every((s) => s.status === 500 && s.at >= first && s.at <= last)).toBe(true);
    const duringCanary = samples.filter((s) => s.at >= first && s.at <= last).length;
    expect(failed.length / duringCanary).toBeLessThan(0.05);

    const { lastRollout, liveVersion, traffic } = await status();
    expect(liveVersion).toBe("v1");
    expect(traffic).toEqual([{ version: "v1", weight: 100 }]);
    expect(lastRollout.status).toBe("failed");
    expect(lastRollout.failure).toMatch(/^analysis failed: error rate \d+\.\d\d% vs baseline 0\.00%/);
    expect(lastRollout.analysis.verdict).toBe("fail");
    const errorRate = lastRollout.analysis.checks.find((c: { name: string }) => c.name === "error-rate");
    expect(errorRate.comparison.pValue).toBeLessThan(0.001);
    const text = (await gantry(g.dataDir, ["status", "web"])).stdout;
    expect(text).toMatch(/analysis \(step 3, .*\): fail\n {4}fail {9}error rate/);
  });

  it("rolls a canary that is 200 ms slower back, naming latency", async () => {
    const { g, load, status } = await underLoad(
      "{ type: canary, steps: [{ setWeight: 10 }, { analysis: 60s }] }",
    );
    const deployed = await deployWeb(g, "v2", "DEMO_LATENCY_MS=200");
    const samples = await load.stop();
    expect(deployed.code).not.toBe(0);
    expect(failures(samples)).toEqual([]);
    const { first, last } = v2Window(samples);
    expect(last - first).toBeLessThan(10_000);
    const { lastRollout } = await status();
    expect(lastRollout.failure).toMatch(/^analysis failed: latency p50 \d{3}\.\d ms vs \d+\.\d ms/);
  });

  it("promotes a healthy canary step by step, waiting for gantry promote where told", async () => {
    const { g, load, status } = await underLoad(
      "{ type: canary, steps: [{ setWeight: 20 }, { analysis: 4s }, { pause: promote }, { setWeight: 60 }, { analysis: 2s }] }",
    );
    const deployed = deployWeb(g, "v2");
    await waitUntil(
      async () => (await status()).rollout?.stepDescription === "wait for `gantry promote`",
      20_000,
      "the canary to wait for promote",
    );
    const waiting = await status();
    expect(waiting.traffic).toEqual([
      { version: "v1", weight: 80 },
      { version: "v2", weight: 20 },
    ]);
    expect(waiting.rollout.analysis.verdict).toBe("pass");
    const promoted = await gantry(g.dataDir, ["promote", "web", "--reason", "looks good"]);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect((await deployed).code).toBe(0);
    const samples = await load.stop();
    expect(failures(samples)).toEqual([]);
    const share = samples.filter((s) => s.version === "v2").length / samples.length;
    expect(share).toBeGreaterThan(0.1);
    const { liveVersion, lastRollout } = await status();
    expect(liveVersion).toBe("v2");
    expect(lastRollout).toMatchObject({ status: "succeeded", strategy: "canary" });
    const audit = JSON.parse(
      (await gantry(g.dataDir, ["audit", "--action", "rollout.promoted", "--json"])).stdout,
    );
    expect(audit.events[0]).toMatchObject({ reason: "looks good" });
  });

  it("refuses promote when no canary waits", async () => {
    const { g, load } = await underLoad("{ type: rolling }");
    await load.stop();
    const refused = await gantry(g.dataDir, ["promote", "web"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("web has no rollout running; nothing to promote");
  });
});

describe("manual control of a rollout", () => {
  it("pauses before the next step, resumes, promotes in full past analyses and pauses, and aborts", async () => {
    const { g, load, status } = await underLoad(
      "{ type: canary, steps: [{ setWeight: 20 }, { pause: 4s }, { setWeight: 50 }, { analysis: 60s }, { pause: promote }] }",
    );
    const deployed = deployWeb(g, "v2");
    await waitUntil(
      async () => (await status()).rollout?.stepDescription === "pause for 4s",
      20_000,
      "the pause",
    );
    const paused = await gantry(g.dataDir, ["pause", "web", "--reason", "checking dashboards"]);
    expect(paused.code, paused.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 5000));
    // Held before its next step: still at 20% after the 4 s pause ended.
    const held = await status();
    expect(held.traffic).toEqual([
      { version: "v1", weight: 80 },
      { version: "v2", weight: 20 },
    ]);
    expect(held.rollout.paused).toMatchObject({ reason: "checking dashboards" });
    expect((await gantry(g.dataDir, ["status", "web"])).stdout).toContain("PAUSED by local-admin");
    expect((await gantry(g.dataDir, ["pause", "web"])).stderr).toContain("is already paused");

    expect((await gantry(g.dataDir, ["resume", "web"])).code).toBe(0);
    await waitUntil(
      async () => (await status()).rollout?.stepDescription?.startsWith("judge v2 at 50%") === true,
      20_000,
      "the analysis at 50%",
    );
    const full = await gantry(g.dataDir, ["promote", "web", "--full", "--reason", "ship it"]);
    expect(full.code, full.stderr).toBe(0);
    expect((await deployed).code).toBe(0);
    expect((await status()).liveVersion).toBe("v2");

    const next = deployWeb(g, "v3");
    await waitUntil(
      async () => (await status()).rollout?.stepDescription === "pause for 4s",
      20_000,
      "v3's pause",
    );
    await gantry(g.dataDir, ["pause", "web"]);
    const aborted = await gantry(g.dataDir, ["abort", "web", "--wait", "--reason", "changed my mind"]);
    expect(aborted.code, aborted.stdout).toBe(0);
    expect((await next).code).not.toBe(0);
    const after = await status();
    expect(after.liveVersion).toBe("v2");
    expect(after.traffic).toEqual([{ version: "v2", weight: 100 }]);
    const nothing = await gantry(g.dataDir, ["abort", "web"]);
    expect(nothing.code).not.toBe(0);
    expect(nothing.stderr).toContain("web has no rollout running; nothing to abort");
    expect(failures(await load.stop())).toEqual([]);
    const actions = JSON.parse(
      (await gantry(g.dataDir, ["audit", "--service", "web", "--json"])).stdout,
    ).events.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["rollout.paused", "rollout.unpaused", "rollout.promoted"]),
    );
  });
});
