import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoApp, gantry, type RunningGantry, up, waitUntil, webConfig } from "./harness.ts";

let g: RunningGantry;
beforeAll(async () => {
  g = await up({
    config: webConfig(
      "{ type: rolling }",
      "experiments:\n  alerted: { service: web, maxMismatchRate: 0.2, window: 10, minRuns: 4 }\n",
    ),
  });
  const deployed = await gantry(g.dataDir, [
    "deploy",
    "web",
    "--artifact",
    demoApp,
    "--version",
    "v1",
    "--env",
    "DEMO_CANDIDATE_BUG=1",
    "--wait",
  ]);
  expect(deployed.code, deployed.stderr).toBe(0);
});
afterAll(async () => {
  await g.interrupt();
});

describe("Scientist experiments", () => {
  it("reports runs of an instrumented endpoint to gantry experiments show, callers always getting the control's answer", async () => {
    for (let n = 1; n <= 40; n++) {
      const response = await request(`${g.routerUrl}/compare?n=${n}`, { headers: { host: "web.localhost" } });
      expect(response.statusCode).toBe(200);
      expect(((await response.body.json()) as { sum: number }).sum).toBe((n * (n + 1)) / 2);
    }
    await waitUntil(
      async () => {
        const shown = await gantry(g.dataDir, ["experiments", "show", "demo-sum", "--json"]);
        return shown.code === 0 && JSON.parse(shown.stdout).experiment.counts.runs === 40;
      },
      10_000,
      "all 40 runs to be reported",
    );
    const { experiment } = JSON.parse(
      (await gantry(g.dataDir, ["experiments", "show", "demo-sum", "--json"])).stdout,
    );
    expect(experiment.counts).toMatchObject({ runs: 40, matched: 10, mismatched: 30 });
    expect(experiment.mismatchRate).toBeCloseTo(0.75);
    expect(Object.keys(experiment.timings).sort()).toEqual(["candidate", "control"]);
    expect(experiment.timings.control.duration.samples).toBe(40);
    const [newest] = experiment.mismatches;
    expect(newest.control.value).toBe(newest.candidates[0].value - 1);
    expect(newest.context.n).toBeGreaterThan(10);

    const text = await gantry(g.dataDir, ["experiments", "show", "demo-sum"]);
    expect(text.stdout).toContain("demo-sum: 40 runs, 10 matched, 30 mismatched (75.00%)");
    const metrics = await (
      await fetch(`${g.apiUrl}/metrics`, { headers: { authorization: `Bearer ${await adminToken()}` } })
    ).text();
    expect(metrics).toContain('gantry_experiment_mismatch_ratio{experiment="demo-sum"} 0.75');
  });

  it("accepts results only from a token that may report, and refuses a bad batch naming the field", async () => {
    const viewer = (await gantry(g.dataDir, ["tokens", "create", "--role", "viewer"])).stdout.trim();
    const post = (token: string, body: unknown) =>
      fetch(`${g.apiUrl}/api/v1/experiments/results`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post(viewer, { results: [] })).status).toBe(403);
    const sdk = (await gantry(g.dataDir, ["tokens", "create", "--role", "sdk"])).stdout.trim();
    const bad = await post(sdk, { results: [{ name: "x", control: { name: "control" } }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("results[0]");
    const sdkCannotRead = await fetch(`${g.apiUrl}/api/v1/status`, {
      headers: { authorization: `Bearer ${sdk}` },
    });
    expect(sdkCannotRead.status).toBe(403);
  });
});

describe("a publisher retrying a batch", () => {
  it("has each result counted once, however often it is resent", async () => {
    const sdk = (await gantry(g.dataDir, ["tokens", "create", "--role", "sdk"])).stdout.trim();
    const observation = (name: string, value: number) => ({
      name,
      value,
      timedOut: false,
      durationMs: 0.1,
      cpuMs: 0.1,
    });
    const result = (id: string, candidate: number) => ({
      id,
      name: "retried",
      context: {},
      control: observation("control", 1),
      candidates: [observation("candidate", candidate)],
      matched: candidate === 1 ? ["candidate"] : [],
      ignored: [],
      mismatched: candidate === 1 ? [] : ["candidate"],
      returned: "control",
      at: new Date().toISOString(),
      sampled: null,
    });
    const post = async (results: unknown[]) => {
      const response = await fetch(`${g.apiUrl}/api/v1/experiments/results`, {
        method: "POST",
        headers: { authorization: `Bearer ${sdk}`, "content-type": "application/json" },
        body: JSON.stringify({ results }),
      });
      expect(response.status).toBe(202);
      return response.json();
    };
    const first = [result("r-1", 1), result("r-2", 2)];
    expect(await post(first)).toEqual({ accepted: 2, recorded: 2, duplicates: 0 });
    // The response was lost: the publisher resends the batch with a new result, one twice.
    expect(await post([...first, result("r-3", 1), result("r-3", 1)])).toEqual({
      accepted: 4,
      recorded: 1,
      duplicates: 3,
    });
    const { experiment } = JSON.parse(
      (await gantry(g.dataDir, ["experiments", "show", "retried", "--json"])).stdout,
    );
    expect(experiment.counts).toMatchObject({ runs: 3, matched: 2, mismatched: 1 });
  });
});

async function adminToken(): Promise<string> {
  const { readFileSync } = await import("node:fs");
  return readFileSync(`${g.dataDir}/token`, "utf8").trim();
}

describe("an experiment as an alert source", () => {
  it("opens an incident when its latest runs mismatch too often, and resolves it when they agree again", async () => {
    const sdk = (await gantry(g.dataDir, ["tokens", "create", "--role", "sdk"])).stdout.trim();
    let n = 0;
    const run = (agree: boolean) => {
      n += 1;
      const value = (v: number) => ({ name: "", value: v, timedOut: false, durationMs: 0.1, cpuMs: 0.1 });
      return {
        id: `a-${n}`,
        name: "alerted",
        context: {},
        control: { ...value(1), name: "control" },
        candidates: [{ ...value(agree ? 1 : 2), name: "candidate" }],
        matched: agree ? ["candidate"] : [],
        ignored: [],
        mismatched: agree ? [] : ["candidate"],
        returned: "control",
        at: new Date().toISOString(),
        sampled: null,
      };
    };
    const post = async (agree: boolean, count: number) => {
      const response = await fetch(`${g.apiUrl}/api/v1/experiments/results`, {
        method: "POST",
        headers: { authorization: `Bearer ${sdk}`, "content-type": "application/json" },
        body: JSON.stringify({ results: Array.from({ length: count }, () => run(agree)) }),
      });
      expect(response.status).toBe(202);
    };
    type Listed = { id: number; status: string; source: string; title: string; service: string | null };
    const incidents = async () =>
      JSON.parse((await gantry(g.dataDir, ["incidents", "list", "--all", "--json"])).stdout)
        .incidents as Listed[];
    const ours = async () => (await incidents()).filter((i) => i.source === "experiment");

    await post(false, 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(await ours()).toEqual([]); // 3 runs: fewer than minRuns
    await post(false, 2);
    await waitUntil(async () => (await ours()).length === 1, 10_000, "an incident from the experiment");
    expect((await ours())[0]).toMatchObject({ status: "triggered", service: "web" });
    expect((await ours())[0]!.title).toContain("experiment alerted: 5 of the last 5 runs mismatched");
    // Ten agreeing runs push the mismatches out of the window of the latest ten.
    await post(true, 10);
    await waitUntil(async () => (await ours())[0]?.status === "resolved", 10_000, "the incident to resolve");
  });
});
