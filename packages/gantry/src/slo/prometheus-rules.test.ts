import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseConfigText } from "../config/index.ts";
import { prometheusRules } from "./index.ts";

const config = parseConfigText(
  `services:
  demo: { command: x }
slos:
  demo-availability:
    service: demo
    sli: { type: availability }
    objective: 99.9%
  demo-latency:
    service: demo
    sli: { type: latency, threshold: 250ms, version: v2 }
    objective: 0.99
    window: { calendar: month }
    alerting:
      burnRates: [{ severity: page, longWindow: 10m, shortWindow: 1m, burnRate: 10, for: 1m }]
      thresholds: [{ severity: ticket, window: 5m, maxBadRatio: 0.2, minEvents: 10 }]
`,
  "gantry.yaml",
);
const slos = Object.entries(config.slos).map(([name, spec]) => ({ name, spec }));
const dir = mkdtempSync(join(tmpdir(), "gantry-promtool-"));

function promtool(args: string[]): string {
  return execFileSync("promtool", args, { cwd: dir, encoding: "utf8" });
}

describe("Prometheus rules export", () => {
  const text = prometheusRules(slos);
  writeFileSync(join(dir, "rules.yaml"), text);

  it("writes recording rules for every window and an alert per rule", () => {
    const groups = parse(text).groups as { name: string; rules: Record<string, unknown>[] }[];
    expect(groups.map((g) => g.name)).toEqual(["gantry-slo-demo-availability", "gantry-slo-demo-latency"]);
    expect(groups[0]!.rules.filter((r) => r.record).map((r) => r.record)).toEqual([
      "gantry_slo:error_ratio:rate5m",
      "gantry_slo:error_ratio:rate30m",
      "gantry_slo:error_ratio:rate1h",
      "gantry_slo:error_ratio:rate2h",
      "gantry_slo:error_ratio:rate6h",
      "gantry_slo:error_ratio:rate1d",
      "gantry_slo:error_ratio:rate3d",
      "gantry_slo:error_ratio:rate28d",
      "gantry_slo:objective",
      "gantry_slo:error_budget_remaining",
    ]);
    const alerts = groups[0]!.rules.filter((r) => r.alert);
    expect(
      alerts.map((a) => [
        (a.labels as Record<string, string>).severity,
        (a.labels as Record<string, string>).window,
      ]),
    ).toEqual([
      ["page", "1h/5m"],
      ["page", "6h/30m"],
      ["ticket", "1d/2h"],
      ["ticket", "3d/6h"],
    ]);
    expect(alerts[0]!.expr).toBe(
      'gantry_slo:error_ratio:rate1h{slo="demo-availability"} > 0.0144\nand\ngantry_slo:error_ratio:rate5m{slo="demo-availability"} > 0.0144',
    );
    expect(groups[1]!.rules.find((r) => r.alert === "GantrySLOBurnRate")).toMatchObject({ for: "1m" });
  });

  it("is accepted by promtool check rules", () => {
    expect(promtool(["check", "rules", "rules.yaml"])).toContain("SUCCESS: 20 rules found");
  });

  it("fires in Prometheus' own rule engine when the errors are there, and only then (promtool test rules)", () => {
    const groups = parse(text).groups as {
      rules: { alert?: string; labels: object; annotations: object }[];
    }[];
    const expected = groups[0]!.rules
      .filter((r) => r.alert)
      .map(
        (r) =>
          `          - exp_labels: ${JSON.stringify(r.labels)}\n            exp_annotations: ${JSON.stringify(r.annotations)}`,
      )
      .join("\n");
    // 2 requests a second; from minute 10 on, half of demo's requests fail.
    writeFileSync(
      join(dir, "test.yaml"),
      `rule_files: [rules.yaml]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'gantry_http_requests_total{service="demo",version="v1",code="2xx"}'
        values: '0+30x40 1215+15x40'
      - series: 'gantry_http_requests_total{service="demo",version="v1",code="5xx"}'
        values: '0+0x40 15+15x40'
      - series: 'gantry_http_request_duration_seconds_bucket{service="demo",version="v2",le="0.25"}'
        values: '0+30x80'
      - series: 'gantry_http_request_duration_seconds_count{service="demo",version="v2"}'
        values: '0+30x80'
    alert_rule_test:
      - eval_time: 9m
        alertname: GantrySLOBurnRate
        exp_alerts: []
      - eval_time: 14m
        alertname: GantrySLOBurnRate
        exp_alerts:
${expected}
      - eval_time: 14m
        alertname: GantrySLOErrorRatio
        exp_alerts: []
`,
    );
    expect(promtool(["test", "rules", "test.yaml"])).toContain("SUCCESS");
  });
});

describe("Prometheus rules export of an SLI read from Prometheus", () => {
  const ratioConfig = parseConfigText(
    `services:
  api: { command: x }
slos:
  api-good:
    service: api
    sli: { type: ratio, prometheus: { url: "http://p:9090", good: 'sum(http_requests_total{job="api",code!~"5.."})', total: 'sum(http_requests_total{job="api"})' } }
    objective: 99%
    window: 1d
    alerting: { burnRates: [{ severity: page, longWindow: 10m, shortWindow: 1m, burnRate: 10 }] }
  api-bad:
    service: api
    sli: { type: ratio, prometheus: { url: "http://p:9090", bad: 'http_requests_total{job="api",code=~"5.."}', total: 'http_requests_total{job="api"}' } }
    objective: 99%
    window: 1d
    alerting: { burnRates: none, thresholds: [{ severity: ticket, window: 5m, maxBadRatio: 20%, minEvents: 10 }] }
`,
    "gantry.yaml",
  );
  const text = prometheusRules(Object.entries(ratioConfig.slos).map(([name, spec]) => ({ name, spec })));
  writeFileSync(join(dir, "ratio-rules.yaml"), text);

  it("reads the counters the SLI's queries select, and promtool accepts the rules", () => {
    const groups = parse(text).groups as { name: string; rules: Record<string, unknown>[] }[];
    const [good, bad] = groups.map((g) => g.rules);
    expect(good!.find((r) => r.record === "gantry_slo:error_ratio:rate1m")!.expr).toBe(
      '1 - (\n(sum(rate(http_requests_total{job="api",code!~"5.."}[1m])) or vector(0))\n/\nsum(rate(http_requests_total{job="api"}[1m]))\n)',
    );
    expect(bad!.find((r) => r.record === "gantry_slo:error_ratio:rate5m")!.expr).toBe(
      '(sum(rate(http_requests_total{job="api",code=~"5.."}[5m])) or vector(0))\n/\nsum(rate(http_requests_total{job="api"}[5m]))',
    );
    expect(bad!.find((r) => r.alert === "GantrySLOErrorRatio")!.expr).toContain(
      'sum(increase(http_requests_total{job="api"}[5m])) >= 10',
    );
    expect(promtool(["check", "rules", "ratio-rules.yaml"])).toContain("SUCCESS");
  });

  it("fires in Prometheus' own rule engine when the bad counter climbs (promtool test rules)", () => {
    // 2 requests a second; from minute 10 on, half of them fail.
    writeFileSync(
      join(dir, "ratio-test.yaml"),
      `rule_files: [ratio-rules.yaml]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'http_requests_total{job="api",code="200"}'
        values: '0+30x40 1215+15x40'
      - series: 'http_requests_total{job="api",code="503"}'
        values: '0+0x40 15+15x40'
    alert_rule_test:
      - eval_time: 9m
        alertname: GantrySLOBurnRate
        exp_alerts: []
      - eval_time: 14m
        alertname: GantrySLOBurnRate
        exp_alerts:
          - exp_labels: { slo: api-good, service: api, severity: page, window: 10m/1m }
            exp_annotations: ${JSON.stringify((parse(text).groups[0].rules as { alert?: string; annotations: object }[]).find((r) => r.alert)!.annotations)}
`,
    );
    expect(promtool(["test", "rules", "ratio-test.yaml"])).toContain("SUCCESS");
  });
});
