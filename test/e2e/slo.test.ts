import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  constantLoad,
  demoApp,
  gantry,
  type RunningGantry,
  repoRoot,
  up,
  waitUntil,
  webConfig,
} from "./harness.ts";

let running: RunningGantry | undefined;
afterEach(async () => {
  if (running) await running.interrupt();
  running = undefined;
});

/** `web` with an availability SLO whose burn-rate windows are seconds long, sampled every second. */
const config = webConfig(
  "{ type: rolling, maxSurge: 2, maxUnavailable: 0 }",
  `sli: { interval: 1s, coarse: 10s, fineFor: 5m, retention: 2h }
slos:
  web-availability:
    service: web
    sli: { type: availability }
    objective: 99%
    window: 1h
    sla: { objective: 98% }
    alerting:
      burnRates: [{ severity: page, longWindow: 20s, shortWindow: 3s, burnRate: 5 }]
      thresholds: [{ severity: ticket, window: 10s, maxBadRatio: 20%, minEvents: 50 }]
  web-latency:
    service: web
    sli: { type: latency, threshold: 250ms }
    objective: 0.95
    window: 1h
    alerting: { burnRates: none }
`,
);

async function json<T>(g: RunningGantry, args: string[]): Promise<T> {
  const result = await gantry(g.dataDir, [...args, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

type Slo = {
  name: string;
  status: { severity: string | null; budget: { sli: number | null; bad: number; total: number } };
};

describe("SLOs", () => {
  it("shows the demo's availability SLO from the first start", async () => {
    running = await up({ demo: true });
    const list = await gantry(running.dataDir, ["slo", "list"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/demo-availability\s+demo\s+availability\s+99\.9%\s+28d rolling/);
  });

  it("measures budgets and burn rates from the router, pages on a bad version, and exports rules promtool accepts", async () => {
    running = await up({ config });
    const g = running;
    const v1 = await gantry(g.dataDir, ["deploy", "web", "--artifact", demoApp, "--version", "v1", "--wait"]);
    expect(v1.code, v1.stderr).toBe(0);
    const load = constantLoad({ url: g.routerUrl, host: "web.localhost", rps: 100 });
    try {
      await waitUntil(
        async () =>
          ((await json<{ slos: Slo[] }>(g, ["slo", "list"])).slos[0]?.status.budget.total ?? 0) > 200,
        15_000,
        "SLI samples",
      );
      let { slos } = await json<{ slos: Slo[] }>(g, ["slo", "list"]);
      expect(slos.map((s) => [s.name, s.status.severity, s.status.budget.sli])).toEqual([
        ["web-availability", null, 1],
        ["web-latency", null, 1],
      ]);
      // A version failing half its requests: the 20 s and 3 s windows burn far above 5x.
      const v2 = await gantry(g.dataDir, [
        "deploy",
        "web",
        "--artifact",
        demoApp,
        "--version",
        "v2",
        "--env",
        "DEMO_FAIL_RATE=0.5",
        "--wait",
      ]);
      expect(v2.code, v2.stderr).toBe(0);
      const deployedAt = Date.now();
      await waitUntil(
        async () =>
          (await json<{ slo: Slo }>(g, ["slo", "show", "web-availability"])).slo.status.severity === "page",
        10_000,
        "the page alert",
      );
      expect(Date.now() - deployedAt).toBeLessThan(6000);
      const show = await gantry(g.dataDir, ["slo", "show", "web-availability"]);
      expect(show.stdout).toMatch(/alert {6}PAGE/);
      expect(show.stdout).toMatch(/page\s+5x\s+20s & 3s\s+\d+(\.\d+)?x\s+\d+(\.\d+)?x\s+-\s+FIRING/);
      expect(show.stdout).toMatch(/SLA {8}98%: \d+(\.\d+)?% of its budget spent/);
      ({ slos } = await json<{ slos: Slo[] }>(g, ["slo", "list"]));
      expect(slos[1]!.status.severity).toBeNull(); // latency is unaffected
      const sli = await json<{
        versions: {
          version: string;
          availability: number;
          rps: number;
          cpuCores: number;
          rssBytes: number;
        }[];
      }>(g, ["slo", "sli", "web", "--window", "5s"]);
      const bad = sli.versions.find((v) => v.version === "v2")!;
      expect(bad.availability).toBeGreaterThan(0.3);
      expect(bad.availability).toBeLessThan(0.7);
      expect(bad.rps).toBeGreaterThan(20);
      // Saturation of its instances, from the runtime.
      expect(bad.cpuCores).toBeGreaterThan(0);
      expect(bad.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    } finally {
      await load.stop();
    }
    const file = join(mkdtempSync(join(tmpdir(), "gantry-rules-")), "rules.yaml");
    const exported = await gantry(g.dataDir, ["slo", "export", "prometheus", "--output", file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toContain("alert: GantrySLOBurnRate");
    expect(execFileSync("promtool", ["check", "rules", file], { encoding: "utf8" })).toContain("SUCCESS");
  });

  it("imports OpenSLO, and refuses an SLO looser than its SLA or for an unknown service", async () => {
    running = await up({ config });
    const g = running;
    const example = join(repoRoot, "examples/openslo/demo-slos.yaml");
    const unknown = await gantry(g.dataDir, ["slo", "import", example]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('SLO demo-imported-availability: service "demo" is not declared');
    const onWeb = join(mkdtempSync(join(tmpdir(), "gantry-openslo-")), "web.yaml");
    writeFileSync(onWeb, readFileSync(example, "utf8").replace(/service: demo/g, "service: web"));
    const dry = await gantry(g.dataDir, ["slo", "import", onWeb, "--dry-run"]);
    expect(dry.stdout).toBe("would import 2 SLOs: demo-imported-availability, demo-imported-latency\n");
    expect((await json<{ slos: Slo[] }>(g, ["slo", "list"])).slos).toHaveLength(2);
    const imported = await gantry(g.dataDir, ["slo", "import", onWeb]);
    expect(imported.code, imported.stderr).toBe(0);
    const { slos } = await json<{ slos: { name: string; source: string; window: string }[] }>(g, [
      "slo",
      "list",
    ]);
    expect(slos.map((s) => [s.name, s.source, s.window])).toContainEqual([
      "demo-imported-availability",
      "openslo",
      "calendar month (Europe/London)",
    ]);
    const token = readFileSync(join(g.dataDir, "token"), "utf8").trim();
    const looser = await fetch(`${g.apiUrl}/api/v1/slos/web-loose`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        service: "web",
        sli: { type: "availability" },
        objective: "99%",
        sla: { objective: "99.9%" },
      }),
    });
    expect(looser.status).toBe(400);
    const body = (await looser.json()) as { error: { message: string; field: string } };
    expect(body.error.field).toBe("objective");
    expect(body.error.message).toContain("99% is looser than the SLA's 99.9%");
    const fromYaml = await gantry(g.dataDir, ["slo", "delete", "web-availability"]);
    expect(fromYaml.stderr).toContain('SLO "web-availability" comes from gantry.yaml; remove it there');
  });
});
