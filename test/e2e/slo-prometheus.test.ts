import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CounterExporter,
  counterExporter,
  requirePrometheus,
  startPrometheus,
  steadyTraffic,
  stopAllPrometheus,
  type TestPrometheus,
} from "../prometheus.ts";
import { gantry, type RunningGantry, sleep, up, waitUntil } from "./harness.ts";

// An SLO declared in gantry.yaml over counters that a real Prometheus scrapes from a tiny
// exporter (a team's own service, which Gantry does not route), driven through the real CLI.
const ok = 'requests_total{job_name="checkout",code="200"}';
const failed = 'requests_total{job_name="checkout",code="503"}';

let exporter: CounterExporter;
let prometheus: TestPrometheus;
let traffic: NodeJS.Timeout;
let errorShare = 0;
let running: RunningGantry | undefined;

beforeAll(async () => {
  requirePrometheus();
  exporter = await counterExporter([ok, failed]);
  // 200 requests a second; `errorShare` of them fail.
  traffic = steadyTraffic(exporter, { ok, failed, perSecond: 200, errorShare: () => errorShare });
  prometheus = await startPrometheus({
    jobs: ["checkout"],
    scrapeInterval: "500ms",
    scrapeConfigs: `  - job_name: checkout\n    static_configs: [{ targets: ["${exporter.target}"] }]\n`,
  });
});
afterAll(async () => {
  if (running) await running.interrupt();
  await stopAllPrometheus();
  clearInterval(traffic);
  await exporter.close();
});

type Slo = {
  name: string;
  sli: string;
  status: {
    severity: string | null;
    budget: { total: number; bad: number; remaining: number };
    sliSource: { kind: string; ok: boolean; error: string | null };
  };
};

async function json<T>(g: RunningGantry, args: string[]): Promise<T> {
  const result = await gantry(g.dataDir, [...args, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

describe("an SLO whose SLI Prometheus counts", () => {
  it("shows a budget from Prometheus' history at once, pages when the bad counter climbs, exports rules, and says when Prometheus is down", async () => {
    await sleep(3000); // history for the backfill
    running = await up({
      config: `services:
  checkout: { command: node server.ts }
sli: { interval: 500ms, coarse: 2s, fineFor: 5m, retention: 1h }
slos:
  checkout-availability:
    service: checkout
    sli:
      type: ratio
      prometheus:
        url: ${prometheus.url}
        good: 'sum(requests_total{job_name="checkout",code!~"5.."})'
        total: 'sum(requests_total{job_name="checkout"})'
    objective: 99%
    window: 10m
    alerting:
      burnRates: [{ severity: page, longWindow: 10s, shortWindow: 2s, burnRate: 5 }]
`,
    });
    const g = running;
    // Backfilled when Gantry started: seconds of 200 requests a second, before a single interval was read.
    const [first] = (await json<{ slos: Slo[] }>(g, ["slo", "list"])).slos;
    expect(first!.sli).toBe("ratio (Prometheus)");
    expect(first!.status.budget.total).toBeGreaterThan(300);
    expect(first!.status.sliSource).toMatchObject({ kind: "prometheus", ok: true });
    const list = await gantry(g.dataDir, ["slo", "list"]);
    expect(list.stdout).toMatch(
      /checkout-availability\s+checkout\s+ratio \(Prometheus\)\s+99%\s+10m rolling\s+100%\s+100%\s+0x over 10s\s+ok/,
    );
    const show = await gantry(g.dataDir, ["slo", "show", "checkout-availability"]);
    expect(show.stdout).toContain(`  good       sum(requests_total{job_name="checkout",code!~"5.."})`);
    expect(show.stdout).toMatch(
      new RegExp(`  data       Prometheus ${prometheus.url}: ok, last read \\d{4}-\\d\\d-\\d\\dT`),
    );

    errorShare = 0.5;
    await waitUntil(
      async () =>
        (await json<{ slo: Slo }>(g, ["slo", "show", "checkout-availability"])).slo.status.severity ===
        "page",
      10_000,
      "the page alert",
    );
    const incidents = async () =>
      (await json<{ incidents: { source: string; status: string }[] }>(g, ["incidents", "list", "--all"]))
        .incidents;
    await waitUntil(async () => (await incidents()).some((i) => i.source === "slo"), 5000, "the incident");

    const file = join(mkdtempSync(join(tmpdir(), "gantry-rules-")), "rules.yaml");
    const exported = await gantry(g.dataDir, ["slo", "export", "prometheus", "--output", file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toContain(
      'sum(rate(requests_total{job_name="checkout",code!~"5.."}[10s]))',
    );
    expect(execFileSync("promtool", ["check", "rules", file], { encoding: "utf8" })).toContain("SUCCESS");

    await prometheus.stop();
    await waitUntil(
      async () =>
        (await json<{ slo: Slo }>(g, ["slo", "show", "checkout-availability"])).slo.status.sliSource.ok ===
        false,
      5000,
      "the error",
    );
    const down = await gantry(g.dataDir, ["slo", "show", "checkout-availability"]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(
      new RegExp(
        `  data       Prometheus ${prometheus.url}: ERROR since \\S+: cannot reach Prometheus at ${prometheus.url}: connect ECONNREFUSED \\S+; budget and burn rates are from the data read before`,
      ),
    );
    expect((await gantry(g.dataDir, ["slo", "list"])).stdout).toMatch(/checkout-availability .*% \(stale\)/);
    // Its windows empty while Prometheus is away; that is no sign of health, so the page holds.
    await sleep(3000);
    expect((await incidents()).find((i) => i.source === "slo")?.status).toBe("triggered");
  });
});
