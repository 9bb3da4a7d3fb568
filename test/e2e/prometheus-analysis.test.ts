import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { requirePrometheus, startPrometheus, stopAllPrometheus } from "../prometheus.ts";
import {
  constantLoad,
  deployWeb,
  freePort,
  gantry,
  type RunningGantry,
  up,
  webConfig,
  webStatus,
} from "./harness.ts";

// A real Prometheus (Debian's `prometheus` package, installed by .ci/run) scraping Gantry's
// /metrics with a viewer token, queried by a canary's analysis.
beforeAll(requirePrometheus);

let running: RunningGantry | undefined;
afterEach(async () => {
  await stopAllPrometheus();
  if (running) await running.interrupt();
  running = undefined;
});

async function startPrometheusOn(port: number, g: RunningGantry): Promise<string> {
  const token = (
    await gantry(g.dataDir, ["tokens", "create", "--role", "viewer", "--name", "prometheus"])
  ).stdout.trim();
  const tokenFile = join(mkdtempSync(join(tmpdir(), "gantry-prometheus-token-")), "token");
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const prometheus = await startPrometheus({
    port,
    jobs: ["gantry"],
    scrapeConfigs: `  - job_name: gantry
    metrics_path: /metrics
    authorization: { credentials_file: ${tokenFile} }
    static_configs: [{ targets: ["${new URL(g.apiUrl).host}"] }]
`,
  });
  return prometheus.url;
}

const errorRatio = (window: string) =>
  `sum(rate(gantry_http_requests_total{service="web",version="{{candidate}}",code="5xx"}[${window}])) / sum(rate(gantry_http_requests_total{service="web",version="{{candidate}}"}[${window}]))`;

describe("a Prometheus query as an analysis check", () => {
  it("rolls a canary back when the query's value leaves its bounds, with the query in the verdict", async () => {
    const port = await freePort();
    // The router's own judges are told to ignore all but huge regressions, so that the Prometheus check decides.
    const strategy = `{ type: canary, steps: [{ setWeight: 50 }, { analysis: 40s }], analysis: { errorRate: { minEffect: 0.9 }, latency: { minEffect: 0.49 }, checks: [{ name: error-ratio, interval: 1s, errorLimit: 60, prometheus: { url: "http://127.0.0.1:${port}", query: '${errorRatio("5s")}', max: 0.05 } }] } }`;
    running = await up({ config: webConfig(strategy) });
    const g = running;
    expect((await deployWeb(g, "v1")).code).toBe(0);
    await startPrometheusOn(port, g);
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 100 });
    const deployed = await deployWeb(g, "v2", "DEMO_FAIL_RATE=0.3");
    await load.stop();
    expect(deployed.code).not.toBe(0);
    const { lastRollout, liveVersion } = JSON.parse(
      (await gantry(g.dataDir, ["status", "web", "--json"])).stdout,
    ).services[0];
    expect(liveVersion).toBe("v1");
    expect(lastRollout.failure).toMatch(
      /^analysis failed: check error-ratio \(prometheus: sum\(rate\(gantry_http_requests_total\{service="web",version="v2",code="5xx"\}\[5s\]\)\) .*\) failed: 0\.\d+ is above the maximum 0\.05$/,
    );
    const result = lastRollout.analysis.custom[0];
    expect(result).toMatchObject({ name: "error-ratio", kind: "prometheus", verdict: "fail" });
    expect(result.value).toBeGreaterThan(0.1);
  });

  it("passes a healthy canary whose query stays within bounds", async () => {
    const port = await freePort();
    const strategy = `{ type: canary, steps: [{ setWeight: 50 }, { analysis: 8s }], analysis: { checks: [{ name: error-ratio, interval: 1s, errorLimit: 60, prometheus: { url: "http://127.0.0.1:${port}", query: 'sum(rate(gantry_http_requests_total{service="web",version="{{candidate}}",code="5xx"}[5s])) or vector(0)', max: 0.05 } }] } }`;
    running = await up({ config: webConfig(strategy) });
    const g = running;
    expect((await deployWeb(g, "v1")).code).toBe(0);
    await startPrometheusOn(port, g);
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 100 });
    const deployed = await deployWeb(g, "v2");
    await load.stop();
    expect(deployed.code, deployed.stdout).toBe(0);
    const { lastRollout } = await webStatus(g);
    expect(lastRollout.analysis.custom[0]).toMatchObject({ name: "error-ratio", verdict: "pass", value: 0 });
  });
});
